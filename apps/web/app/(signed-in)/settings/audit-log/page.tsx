import type { Metadata } from "next";
import { Suspense } from "react";
import { AuditLogPage } from "@/components/audit/audit-log-page";
import { LoadingState } from "@/components/ui/states";

export const metadata: Metadata = { title: "Audit log" };

export default function Page() {
  return (
    <Suspense fallback={<LoadingState label="Loading the audit log…" rows={5} />}>
      <AuditLogPage />
    </Suspense>
  );
}
