"""epl_sysbio.dynamics"""
