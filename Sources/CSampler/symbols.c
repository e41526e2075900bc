// Symbol tables of the objects loaded in this process, read with libelf.
//
// Objects come from dl_iterate_phdr (the main executable has an empty name there: it is read through
// /proc/self/exe; the vDSO has no file: it is read from memory at AT_SYSINFO_EHDR). A runtime address is
// load bias + st_value. Each object's function symbols (.symtab, else/also .dynsym) are read on first use,
// sorted, and searched by binary search. Not async-signal-safe: use after sampling, never in a handler.
#define _GNU_SOURCE
#include "sampler.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

typedef struct {
    uint64_t addr;   // link-time address (st_value)
    uint64_t size;
    uint32_t name;   // offset into the module's string arena
    uint8_t rank;    // preference among aliases at one address (higher wins)
} sym_t;

typedef struct {
    char *path;          // file to read ("/proc/self/exe" for the main executable)
    char *display;       // what reports show
    uint64_t bias, lo, hi;
    int vdso;
    int loaded;
    sym_t *syms;
    size_t nsyms;
    char *strings;
} module_t;

struct ws_symbolizer {
    module_t *mods;
    size_t n, cap;
};

static int add_module(ws_symbolizer *s, const char *path, const char *display, uint64_t bias, uint64_t lo,
                      uint64_t hi, int vdso) {
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 32;
        module_t *m = realloc(s->mods, c * sizeof *m);
        if (!m) return -1;
        s->mods = m; s->cap = c;
    }
    module_t *m = &s->mods[s->n++];
    memset(m, 0, sizeof *m);
    m->path = strdup(path);
    m->display = strdup(display);
    m->bias = bias; m->lo = lo; m->hi = hi; m->vdso = vdso;
    return 0;
}

static int phdr_callback(struct dl_phdr_info *info, size_t size, void *ctx) {
    (void)size;
    ws_symbolizer *s = ctx;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uint64_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo) lo = a;
        if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
    }
    if (hi <= lo) return 0;
    uint64_t vdso = (uint64_t)getauxval(AT_SYSINFO_EHDR);
    const char *name = info->dlpi_name;
    if (vdso && lo == vdso) return add_module(s, "[vdso]", "[vdso]", info->dlpi_addr, lo, hi, 1), 0;
    if (!name || !*name) {
        // The main executable (the first object) has no name here.
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0) return 0;
        buf[n] = 0;
        add_module(s, "/proc/self/exe", buf, info->dlpi_addr, lo, hi, 0);
        return 0;
    }
    add_module(s, name, name, info->dlpi_addr, lo, hi, 0);
    return 0;
}

ws_symbolizer *ws_symbolizer_create(void) {
    ws_symbolizer *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    dl_iterate_phdr(phdr_callback, s);
    return s;
}

void ws_symbolizer_destroy(ws_symbolizer *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->mods[i].path); free(s->mods[i].display);
        free(s->mods[i].syms); free(s->mods[i].strings);
    }
    free(s->mods);
    free(s);
}

size_t ws_symbolizer_module_count(ws_symbolizer *s) { return s ? s->n : 0; }

int ws_symbolizer_module(ws_symbolizer *s, size_t i, const char **path, uint64_t *bias, uint64_t *lo, uint64_t *hi) {
    if (!s || i >= s->n) return 0;
    if (path) *path = s->mods[i].display;
    if (bias) *bias = s->mods[i].bias;
    if (lo) *lo = s->mods[i].lo;
    if (hi) *hi = s->mods[i].hi;
    return 1;
}

// ---- reading one ELF image ---------------------------------------------------------------------------

typedef void (*visit_fn)(void *ctx, const char *name, uint64_t value, uint64_t size, int binding, int from_symtab);

/// Calls `visit` for every defined function symbol of `e`. Returns the count, or -1.
static long each_function_symbol(Elf *e, void *ctx, visit_fn visit) {
    long count = 0;
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh)) continue;
        if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) continue;
        if (sh.sh_entsize == 0) continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data) continue;
        size_t n = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym)) continue;
            int type = GELF_ST_TYPE(sym.st_info);
            if (type != STT_FUNC && type != STT_GNU_IFUNC) continue;
            if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
            const char *name = elf_strptr(e, sh.sh_link, sym.st_name);
            if (!name || !*name) continue;
            visit(ctx, name, sym.st_value, sym.st_size, GELF_ST_BIND(sym.st_info), sh.sh_type == SHT_SYMTAB);
            count++;
        }
    }
    return count;
}

typedef struct {
    sym_t *syms; size_t n, cap;
    char *strings; size_t slen, scap;
    int failed;
} collect_t;

static void collect(void *ctx, const char *name, uint64_t value, uint64_t size, int binding, int from_symtab) {
    collect_t *c = ctx;
    if (c->failed) return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        sym_t *p = realloc(c->syms, cap * sizeof *p);
        if (!p) { c->failed = 1; return; }
        c->syms = p; c->cap = cap;
    }
    size_t len = strlen(name) + 1;
    if (c->slen + len > c->scap) {
        size_t cap = c->scap ? c->scap * 2 : 65536;
        while (cap < c->slen + len) cap *= 2;
        char *p = realloc(c->strings, cap);
        if (!p) { c->failed = 1; return; }
        c->strings = p; c->scap = cap;
    }
    memcpy(c->strings + c->slen, name, len);
    sym_t *s = &c->syms[c->n++];
    s->addr = value;
    s->size = size;
    s->name = (uint32_t)c->slen;
    // Among aliases (perf's order, see by_addr_then_rank): sized, then global, then local, then weak.
    s->rank = (uint8_t)((size > 0) * 8 + (binding == STB_GLOBAL ? 4 : binding == STB_WEAK ? 0 : 2) + (from_symtab ? 1 : 0));
    c->slen += len;
}

static const char *g_sort_strings;  // the string arena during qsort (qsort has no context argument)

static int leading_underscores(const char *s) { int n = 0; while (s[n] == '_') n++; return n; }

/// Address order; among aliases at one address the one perf shows (its choose_best_symbol, so both backends
/// name a function the same way): sized, then non-weak, then global, then fewer leading underscores, then
/// the longer name.
static int by_addr_then_rank(const void *a, const void *b) {
    const sym_t *x = a, *y = b;
    if (x->addr != y->addr) return x->addr < y->addr ? -1 : 1;
    if (x->rank / 2 != y->rank / 2) return (int)(y->rank / 2) - (int)(x->rank / 2);
    const char *nx = g_sort_strings + x->name, *ny = g_sort_strings + y->name;
    int ux = leading_underscores(nx), uy = leading_underscores(ny);
    if (ux != uy) return ux - uy;
    size_t lx = strlen(nx), ly = strlen(ny);
    if (lx != ly) return lx > ly ? -1 : 1;
    return strcmp(nx, ny);
}

/// Whether `e` has a .symtab (full symbols) rather than only .dynsym (exported ones).
static int has_symtab(Elf *e) {
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) return 1;
    }
    return 0;
}

/// The separate debug file of `e` by GNU build id (/usr/lib/debug/.build-id/ab/cdef....debug), if present:
/// stripped system libraries (libc) keep their full .symtab there when the -dbg package is installed.
static int debug_file_path(Elf *e, char *out, size_t outlen) {
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE) continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data) continue;
        size_t off = 0, name_off, desc_off;
        GElf_Nhdr nh;
        while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
            if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 || memcmp((char *)data->d_buf + name_off, "GNU", 4) != 0) continue;
            const unsigned char *id = (const unsigned char *)data->d_buf + desc_off;
            if (nh.n_descsz < 2 || nh.n_descsz > 64) return 0;
            char hex[130];
            for (size_t i = 0; i < nh.n_descsz; i++) snprintf(hex + 2 * i, 3, "%02x", id[i]);
            snprintf(out, outlen, "/usr/lib/debug/.build-id/%c%c/%s.debug", hex[0], hex[1], hex + 2);
            return access(out, R_OK) == 0;
        }
    }
    return 0;
}

static void load_module(module_t *m) {
    if (m->loaded) return;
    m->loaded = 1;
    if (elf_version(EV_CURRENT) == EV_NONE) return;
    int fd = -1, dfd = -1;
    Elf *e = NULL, *d = NULL;
    if (m->vdso) {
        e = elf_memory((char *)(uintptr_t)m->lo, (size_t)(m->hi - m->lo));
    } else {
        fd = open(m->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    }
    if (e) {
        collect_t c = {0};
        each_function_symbol(e, &c, collect);
        char dpath[PATH_MAX];
        if (!has_symtab(e) && debug_file_path(e, dpath, sizeof dpath)) {
            // Same link-time addresses: the debug file's .symtab adds the internal functions.
            dfd = open(dpath, O_RDONLY | O_CLOEXEC);
            if (dfd >= 0 && (d = elf_begin(dfd, ELF_C_READ_MMAP, NULL)) != NULL) {
                each_function_symbol(d, &c, collect);
                elf_end(d);
            }
            if (dfd >= 0) close(dfd);
        }
        elf_end(e);
        if (!c.failed && c.n > 0) {
            g_sort_strings = c.strings;
            qsort(c.syms, c.n, sizeof *c.syms, by_addr_then_rank);
            size_t k = 0;  // keep the best alias at each address
            for (size_t i = 0; i < c.n; i++)
                if (k == 0 || c.syms[k - 1].addr != c.syms[i].addr) c.syms[k++] = c.syms[i];
            m->syms = c.syms; m->nsyms = k; m->strings = c.strings;
        } else {
            free(c.syms); free(c.strings);
        }
    }
    if (fd >= 0) close(fd);
}

int ws_symbolize(ws_symbolizer *s, uint64_t pc, const char **name, uint64_t *offset, const char **module) {
    if (name) *name = NULL;
    if (offset) *offset = 0;
    if (module) *module = NULL;
    if (!s) return -1;
    module_t *m = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (pc >= s->mods[i].lo && pc < s->mods[i].hi) { m = &s->mods[i]; break; }
    if (!m) return -1;
    if (module) *module = m->display;
    load_module(m);
    if (m->nsyms == 0) return 0;
    uint64_t a = pc - m->bias;
    // Last symbol starting at or before a.
    size_t lo = 0, hi = m->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->syms[mid].addr <= a) lo = mid + 1; else hi = mid;
    }
    if (lo == 0) return 0;
    const sym_t *sym = &m->syms[lo - 1];
    // A sized symbol must cover a; an unsized one (hand-written assembly) covers up to the next symbol.
    if (sym->size > 0 && a >= sym->addr + sym->size) return 0;
    if (name) *name = m->strings + sym->name;
    if (offset) *offset = a - sym->addr;
    return 1;
}

// ---- one file, for tests and tools -------------------------------------------------------------------

typedef struct {
    void *ctx;
    void (*visit)(void *ctx, const char *name, uint64_t value, uint64_t size);
} forward_t;

static void forward(void *ctx, const char *name, uint64_t value, uint64_t size, int binding, int from_symtab) {
    (void)binding; (void)from_symtab;
    forward_t *f = ctx;
    f->visit(f->ctx, name, value, size);
}

long ws_elf_function_symbols(const char *path, void *ctx,
                             void (*visit)(void *ctx, const char *name, uint64_t value, uint64_t size),
                             char *err, size_t errlen) {
    if (elf_version(EV_CURRENT) == EV_NONE) { snprintf(err, errlen, "libelf is too old"); return -1; }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { snprintf(err, errlen, "cannot open %s", path); return -1; }
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!e || elf_kind(e) != ELF_K_ELF) {
        if (e) elf_end(e);
        close(fd);
        snprintf(err, errlen, "%s is not an ELF file", path);
        return -1;
    }
    forward_t f = { ctx, visit };
    long n = each_function_symbol(e, &f, forward);
    elf_end(e);
    close(fd);
    return n;
}
