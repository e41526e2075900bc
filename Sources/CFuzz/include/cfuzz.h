#pragma once
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (LLVMFuzzerRunDriver) over argv with `callback` as the target, when the binary was
/// linked with libclang_rt.fuzzer_no_main (Tools/fuzz.sh does); returns -1 when it was not.
int wb_fuzz_run(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
