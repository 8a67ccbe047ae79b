# Environment for running midge's MPI jobs on this kind of machine; sourced
# by demo.sh and test.sh. OpenMPI refuses to run as root unless told, and a
# 2-core machine needs oversubscription for the 4-rank tests.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
