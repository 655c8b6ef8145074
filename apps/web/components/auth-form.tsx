"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { authClient } from "@/lib/auth-client";

/** Sign-in and sign-up share one form: the mode decides the fields and the call. */
export function AuthForm({ mode }: { mode: "sign-in" | "sign-up" }) {
  const router = useRouter();
  const params = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const next = params.get("next");
  const destination = next && next.startsWith("/") && !next.startsWith("//") ? next : "/settings/personal-access-tokens";

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "").trim();
    const password = String(form.get("password") ?? "");
    const name = String(form.get("name") ?? "").trim();
    if (!email || !password || (mode === "sign-up" && !name)) {
      setError("Fill in every field.");
      return;
    }
    setPending(true);
    setError(null);
    try {
      const result =
        mode === "sign-in"
          ? await authClient.signIn.email({ email, password })
          : await authClient.signUp.email({ email, password, name });
      if (result.error) {
        setError(result.error.message ?? "That did not work; check the fields and try again.");
        return;
      }
      router.replace(destination);
      router.refresh();
    } catch {
      setError("The server did not answer. Check that Ona is running, then try again.");
    } finally {
      setPending(false);
    }
  }

  const title = mode === "sign-in" ? "Sign in to Ona" : "Create your Ona account";
  return (
    <main className="mx-auto mt-24 w-full max-w-sm rounded-lg border border-gray-200 bg-white p-8 shadow-sm">
      <h1 className="mb-6 text-xl font-semibold">{title}</h1>
      <form onSubmit={onSubmit} className="space-y-4" noValidate>
        {mode === "sign-up" && (
          <label className="block text-sm font-medium">
            Name
            <input name="name" autoComplete="name" required className="mt-1 block w-full rounded border border-gray-300 px-3 py-2" />
          </label>
        )}
        <label className="block text-sm font-medium">
          Email
          <input name="email" type="email" autoComplete="email" required className="mt-1 block w-full rounded border border-gray-300 px-3 py-2" />
        </label>
        <label className="block text-sm font-medium">
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "sign-in" ? "current-password" : "new-password"}
            minLength={8}
            required
            className="mt-1 block w-full rounded border border-gray-300 px-3 py-2"
          />
          {mode === "sign-up" && <span className="mt-1 block text-xs text-gray-500">At least 8 characters.</span>}
        </label>
        {error && (
          <p role="alert" className="rounded bg-red-50 px-3 py-2 text-sm text-red-700">
            {error}
          </p>
        )}
        <button
          type="submit"
          disabled={pending}
          className="w-full rounded bg-blue-600 px-4 py-2 font-medium text-white hover:bg-blue-700 disabled:opacity-60"
        >
          {pending ? "Please wait…" : mode === "sign-in" ? "Sign in" : "Create account"}
        </button>
      </form>
      <p className="mt-6 text-sm text-gray-600">
        {mode === "sign-in" ? (
          <>No account yet? <Link className="text-blue-700 underline" href="/sign-up">Create one</Link></>
        ) : (
          <>Already have an account? <Link className="text-blue-700 underline" href="/sign-in">Sign in</Link></>
        )}
      </p>
    </main>
  );
}
