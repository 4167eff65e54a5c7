// One-thread OpenBLAS sgemm at one shape, process CPU time (see README.md).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <cblas.h>
static double now(){struct timespec t;clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int m=atoi(argv[1]),n=atoi(argv[2]),k=atoi(argv[3]),ta=atoi(argv[4]),tb=atoi(argv[5]),reps=atoi(argv[6]);
  openblas_set_num_threads(1);
  float*a=malloc(4L*m*k),*b=malloc(4L*n*k),*c=malloc(4L*m*n);
  for(long i=0;i<(long)m*k;i++)a[i]=0.01f*(i%7);for(long i=0;i<(long)n*k;i++)b[i]=0.01f*(i%5);
  double best=1e9;
  for(int r=0;r<5;r++){double t0=now();for(int i=0;i<reps;i++)cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,m,n,k,1,a,ta?m:k,b,tb?k:n,0,c,n);double t=(now()-t0)/reps;if(t<best)best=t;}
  printf("m=%d n=%d k=%d %s%s 1 thread: %.1f us  %.1f GFLOP/s\n",m,n,k,ta?"T":"N",tb?"T":"N",best*1e6,2.0*m*n*k/best/1e9);
}
