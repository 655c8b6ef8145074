-- DropIndex
DROP INDEX "environment_runnerId_phase_desiredPhase_idx";

-- CreateIndex
CREATE INDEX "environment_desiredPhase_phase_runnerId_idx" ON "environment"("desiredPhase", "phase", "runnerId");

-- CreateIndex
CREATE INDEX "environment_runnerId_failedSpecVersion_idx" ON "environment"("runnerId", "failedSpecVersion");
