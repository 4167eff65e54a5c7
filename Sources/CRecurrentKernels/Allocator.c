// glibc's malloc_trim for RuntimeTuning.swift (malloc.h is not visible from Swift).
#include "RecurrentKernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void rk_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
