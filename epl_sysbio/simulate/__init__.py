"""epl_sysbio.simulate"""
