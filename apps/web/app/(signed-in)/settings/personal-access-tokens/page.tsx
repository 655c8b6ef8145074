import type { Metadata } from "next";
import { Suspense } from "react";
import { TokensPage } from "@/components/tokens/tokens-page";
import { LoadingState } from "@/components/ui/states";

export const metadata: Metadata = { title: "Personal access tokens" };

export default function PersonalAccessTokensPage() {
  return (
    <Suspense fallback={<LoadingState label="Loading your tokens…" />}>
      <TokensPage />
    </Suspense>
  );
}
