"""epl_sysbio.model"""
