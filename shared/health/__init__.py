"""Operations views for `calypso status` and `calypso health`: service state, journal reads and
one small function per health check, with systemd, /proc and the disk behind injected probes."""
