#include "/work/main/Sources/CRecurrentKernels/GatesAVX2.c"
#include "proto.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define LOOP(name, fn) RK_AVX2 __attribute__((noinline)) void name(const float *x, float *y, long n){for(long j=0;j<n;j+=8)_mm256_storeu_ps(y+j,fn(_mm256_loadu_ps(x+j)));}
LOOP(l_sig, rk_sigmoid) LOOP(l_tanh, rk_tanh) LOOP(n_sig, nx_sigmoid) LOOP(n_tanh, nx_tanh)
typedef void (*F)(const float*,float*,long);
static double ulp_of(double v){ float f=(float)fabs(v); if (f==0) return ldexp(1,-149); int e; frexpf(f,&e); return ldexp(1.0, e-24 < -149 ? -149 : e-24); }
static void accuracy(const char *nm, F f, int tanhref, float lo, float hi) {
  enum{N=1<<16}; static float xs[N], ys[N]; double worst=0, wx=0, worstabs=0; long cnt=0;
  float x=lo; while (x<hi) { int k=0; for(;k<N && x<hi;k++){ xs[k]=x; x=nextafterf(x,INFINITY); if (fabsf(x)>1e-3f) { for(int s=0;s<2 && x<hi;s++) x=nextafterf(x,INFINITY);} }
    for(int j=k;j<N;j++) xs[j]=0; f(xs,ys,N);
    for(int j=0;j<k;j++){ double r = tanhref? tanh((double)xs[j]) : 1.0/(1.0+exp(-(double)xs[j])); double err=fabs(ys[j]-r)/ulp_of(r); if(err>worst){worst=err;wx=xs[j];} double ae=fabs(ys[j]-r); if(ae>worstabs)worstabs=ae; cnt++; } }
  printf("%-10s worst %.3f ulp at x=%.9g, worst abs %.3g (%ld points)\n", nm, worst, wx, worstabs, cnt);
}
int main(int argc,char**argv){ long n=4096; float *x=aligned_alloc(64,n*4),*y=aligned_alloc(64,n*4); for(long i=0;i<n;i++)x[i]=((float)rand()/(float)RAND_MAX-0.5f)*6;
 enum{K=4}; F f[K]={l_sig,n_sig,l_tanh,n_tanh}; const char*nm[K]={"sig","new sig","tanh","new tanh"};
 for(int r=0;r<2;r++)for(int k=0;k<K;k++){double t0=now(); for(int it=0;it<100000;it++){f[k](x,y,n);} double dt=now()-t0;
  printf("%s: %.1f cycles@3.2GHz\n",nm[k],dt/100000/(n/8)*1e9*3.2);}
 if (argc>1) { accuracy("sig",l_sig,0,-90,90); accuracy("new sig",n_sig,0,-90,90); accuracy("tanh",l_tanh,1,-12,12); accuracy("new tanh",n_tanh,1,-12,12);}
}
