@_exported import RecurrentTensor
@_exported import RecurrentNN
@_exported import RecurrentData
@_exported import RecurrentIO
@_exported import RecurrentModels
@_exported import RecurrentTraining
@_exported import RecurrentDistributed
@_exported import RecurrentONNX
