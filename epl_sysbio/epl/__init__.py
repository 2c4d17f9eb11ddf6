"""epl_sysbio.epl"""
