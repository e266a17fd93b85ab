print("osprey-analytics-bench")
