import type { Metadata } from "next";
import Link from "next/link";
import { Logo } from "@/components/logo";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main className="flex min-h-[60vh] flex-col items-center justify-center px-4 text-center">
      <Logo className="mb-6" />
      <h1 className="text-xl font-semibold text-gray-900">There is no page here</h1>
      <p className="mt-2 max-w-md text-sm text-gray-600">Check the address, or start again from your environments.</p>
      <Link href="/environments" className="mt-6 inline-flex h-9 items-center rounded-md bg-blue-600 px-4 text-sm font-medium text-white hover:bg-blue-700">
        Go to environments
      </Link>
    </main>
  );
}
