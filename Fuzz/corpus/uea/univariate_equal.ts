 @problemName U
@univariate true
@equalLength true
@seriesLength 4
@classLabel true a b
@data
1,2,3,4:a
4,3,2,1:b
