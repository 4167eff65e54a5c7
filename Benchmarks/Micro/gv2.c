// AVX2 batch-1 matrix-vector kernel bandwidth (see README.md).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <pthread.h>
void rk_sgemv_rows(const float *w, long ldw, const float *x, float *y, long row0, long row1, long k, int accumulate);
static double now(int cpu){struct timespec t;clock_gettime(cpu?CLOCK_THREAD_CPUTIME_ID:CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  long n=2048,k=512; int nm=atoi(argv[1]); // matrices cycled
  float*w=malloc(4L*n*k*nm),*x=malloc(4*k),*y=malloc(4*n);
  for(long i=0;i<(long)n*k*nm;i++)w[i]=0.001f*(i%13);for(int i=0;i<k;i++)x[i]=1;
  for(int r=0;r<3;r++){double t0=now(1);int reps=400;for(int i=0;i<reps;i++)rk_sgemv_rows(w+(long)(i%nm)*n*k,k,x,y,0,n,k,0);double t=(now(1)-t0)/reps;
  printf("1 thread, %d matrices of 4 MiB cycled: %.1f us per 2048x512  %.1f GB/s\n",nm,t*1e6,4.0*n*k/t/1e9);}
}
