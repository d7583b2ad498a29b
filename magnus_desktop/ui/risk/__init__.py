"""The Risk dock: Greeks, scenario heat map, VaR/ES, stress scenarios and the 5 Feb 2018 replay."""
