print("recurrent: under construction")
