"""epl_sysbio.deq"""
