#!/bin/sh
echo "the Prisma schema engine is not available offline; see packages/db/README.md" >&2
exit 1
