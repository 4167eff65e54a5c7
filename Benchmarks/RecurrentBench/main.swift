import Recurrent
print("recurrent-bench: under construction")
