"""epl_sysbio.analysis"""
