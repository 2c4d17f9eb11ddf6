"""epl_sysbio.evolve"""
