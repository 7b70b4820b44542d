"""`omnihub chaos`: a compressed trading day with everything that goes wrong on one, run as
separate processes talking HTTP, counted from the simulators' own records (issue 19)."""
