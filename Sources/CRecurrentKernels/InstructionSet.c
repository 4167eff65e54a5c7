// Which kernels this process runs: the best instruction set the processor (and the operating system, which
// must save the zmm registers) supports, or the one RECURRENT_ISA names. Both are read once. The kernels of
// each set live in their own folder (avx2/, avx512/) and carry their own target attribute; the Swift
// kernels are the generic path. InstructionSet.swift is the Swift face of this file.
#include "RecurrentKernels.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static unsigned rk_features;
static int rk_detected = RK_ISA_GENERIC, rk_selected = RK_ISA_GENERIC;
static const char *rk_requested;
static pthread_once_t rk_once = PTHREAD_ONCE_INIT;

static void rk_isa_init(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    // __builtin_cpu_supports reports the AVX / AVX-512 features only when XGETBV says the OS saves their registers.
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) rk_features |= RK_FEATURE_AVX2_FMA;
    if (__builtin_cpu_supports("avx512f")) rk_features |= RK_FEATURE_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) rk_features |= RK_FEATURE_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) rk_features |= RK_FEATURE_AVX512VL;
    if (__builtin_cpu_supports("avx512vnni")) rk_features |= RK_FEATURE_AVX512VNNI;
    if (__builtin_cpu_supports("avx512bf16")) rk_features |= RK_FEATURE_AVX512BF16;
#endif
    const unsigned avx512 = RK_FEATURE_AVX2_FMA | RK_FEATURE_AVX512F | RK_FEATURE_AVX512BW | RK_FEATURE_AVX512VL;
    rk_detected = (rk_features & avx512) == avx512 ? RK_ISA_AVX512 : (rk_features & RK_FEATURE_AVX2_FMA) ? RK_ISA_AVX2 : RK_ISA_GENERIC;
    rk_selected = rk_detected;
    const char *value = getenv("RECURRENT_ISA");
    if (value && *value) {
        rk_requested = strdup(value);
        int wanted = strcmp(value, "avx512") == 0 ? RK_ISA_AVX512 : strcmp(value, "avx2") == 0 ? RK_ISA_AVX2
                   : strcmp(value, "generic") == 0 ? RK_ISA_GENERIC : RK_ISA_ERROR_UNKNOWN;
        rk_selected = wanted == RK_ISA_ERROR_UNKNOWN ? wanted : wanted > rk_detected ? RK_ISA_ERROR_UNSUPPORTED : wanted;
    }
}

unsigned rk_isa_features(void) { pthread_once(&rk_once, rk_isa_init); return rk_features; }
int rk_isa_detected(void) { pthread_once(&rk_once, rk_isa_init); return rk_detected; }
int rk_isa_selected(void) { pthread_once(&rk_once, rk_isa_init); return rk_selected; }
const char *rk_isa_requested(void) { pthread_once(&rk_once, rk_isa_init); return rk_requested; }
int rk_has_avx2_fma(void) { return (rk_isa_features() & RK_FEATURE_AVX2_FMA) != 0; }
