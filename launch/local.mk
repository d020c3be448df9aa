bin_PROGRAMS += launch/launch
launch_launch_SOURCES = launch/main.c
launch_launch_LDADD = $(STORE_LIBS)
