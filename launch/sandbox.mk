# launch hardening: capabilities, seccomp, masked paths, cgroups.
