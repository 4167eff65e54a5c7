import Recurrent
print("recurrent")
