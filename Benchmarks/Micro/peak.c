// One core's single-precision FMA peak: 12 independent chains of 8-wide fused multiply-adds (Zen 3: two FMA pipes,
// latency 4). docs/BENCHMARKS.md compares the small-GEMM kernel with this figure.
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(){
  __m256 a[12]; __m256 b=_mm256_set1_ps(1.0000001f), c=_mm256_set1_ps(1e-7f);
  for(int i=0;i<12;i++) a[i]=_mm256_set1_ps(i);
  long n=200000000; double t=now();
  for(long k=0;k<n;k++){
    #pragma GCC unroll 12
    for(int i=0;i<12;i++) a[i]=_mm256_fmadd_ps(a[i],b,c);
  }
  t=now()-t; float s=0; for(int i=0;i<12;i++){float v[8];_mm256_storeu_ps(v,a[i]);s+=v[0];}
  printf("%.1f GFLOP/s (%g)\n", n*12*16/t/1e9, s);
}
