import InterchangeCLI
print("x")
