import type { Metadata } from "next";

export const metadata: Metadata = { title: "Personal access tokens" };

export default function PersonalAccessTokensPage() {
  return (
    <main>
      <h1 className="text-2xl font-semibold">Personal access tokens</h1>
    </main>
  );
}
