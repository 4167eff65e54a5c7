0@dimensions 2
@missing true
@classLabel true x y
@data
1,?:2,3:x
