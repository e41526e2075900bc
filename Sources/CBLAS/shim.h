// OpenBLAS's CBLAS interface (Debian: libopenblas-dev installs it as <cblas.h> via alternatives).
#include <cblas.h>
