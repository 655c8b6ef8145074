"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useId, useRef, useState, type FormEvent } from "react";
import { z } from "zod";
import { authClient } from "@/lib/auth-client";
import { safeNextPath } from "@/lib/next-path";
import { Logo } from "./logo";

const MIN_PASSWORD_LENGTH = 8;

const SignUpFields = z.object({
  name: z.string().trim().min(1, "Enter your name."),
  email: z.email("Enter an email address like you@example.com."),
  password: z.string().min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`),
});
const SignInFields = z.object({
  email: z.email("Enter the email address you signed up with."),
  password: z.string().min(1, "Enter your password."),
});

type FieldName = "name" | "email" | "password";

/** Sign-in and sign-up share one form: the mode decides the fields and the call. */
export function AuthForm({ mode }: { mode: "sign-in" | "sign-up" }) {
  const id = useId();
  const router = useRouter();
  const params = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, string>>>({});
  const [pending, setPending] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const destination = safeNextPath(params.get("next"));
  const otherHref = `${mode === "sign-in" ? "/sign-up" : "/sign-in"}${params.get("next") ? `?next=${encodeURIComponent(destination)}` : ""}`;

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    const form = new FormData(event.currentTarget);
    const values = { name: String(form.get("name") ?? ""), email: String(form.get("email") ?? "").trim(), password: String(form.get("password") ?? "") };
    const parsed = mode === "sign-up" ? SignUpFields.safeParse(values) : SignInFields.safeParse(values);
    if (!parsed.success) {
      const errors: Partial<Record<FieldName, string>> = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0];
        if ((field === "name" || field === "email" || field === "password") && !errors[field]) errors[field] = issue.message;
      }
      setFieldErrors(errors);
      const first = (["name", "email", "password"] as const).find((field) => errors[field]);
      if (first) formRef.current?.querySelector<HTMLInputElement>(`[name="${first}"]`)?.focus();
      return;
    }
    setFieldErrors({});
    setPending(true);
    try {
      const result =
        mode === "sign-in"
          ? await authClient.signIn.email({ email: values.email, password: values.password })
          : await authClient.signUp.email({ email: values.email, password: values.password, name: values.name.trim() });
      if (result.error) {
        setError(
          result.error.status === 401
            ? "That email and password do not match an account. Check them, or create an account."
            : (result.error.message ?? "That did not work; check the fields and try again."),
        );
        setPending(false);
        return;
      }
      router.replace(destination);
      router.refresh();
    } catch {
      setError("The Ona server did not answer. Check that it is running, then try again.");
      setPending(false);
    }
  }

  const input = (field: FieldName) =>
    `mt-1 block w-full rounded-md border px-3 py-2 text-sm shadow-sm ${fieldErrors[field] ? "border-red-500" : "border-gray-300"}`;
  const describedBy = (field: FieldName, help?: string) =>
    [help, fieldErrors[field] ? `${id}-${field}-error` : undefined].filter(Boolean).join(" ") || undefined;
  const fieldError = (field: FieldName) =>
    fieldErrors[field] && (
      <p id={`${id}-${field}-error`} className="mt-1 text-sm text-red-700">
        {fieldErrors[field]}
      </p>
    );

  const title = mode === "sign-in" ? "Sign in to Ona" : "Create your Ona account";
  return (
    <main className="flex min-h-screen flex-col items-center justify-center px-4 py-12">
      <Logo className="mb-6" />
      <div className="w-full max-w-sm rounded-xl border border-gray-200 bg-white p-8 shadow-sm">
        <h1 className="mb-1 text-xl font-semibold text-gray-900">{title}</h1>
        <p className="mb-6 text-sm text-gray-600">
          {mode === "sign-in" ? "Manage your environments and personal access tokens." : "Your account owns your environments and tokens."}
        </p>
        <form ref={formRef} onSubmit={onSubmit} className="space-y-4" noValidate>
          {mode === "sign-up" && (
            <div>
              <label htmlFor={`${id}-name`} className="block text-sm font-medium text-gray-900">
                Name
              </label>
              <input
                id={`${id}-name`}
                name="name"
                autoComplete="name"
                required
                aria-invalid={fieldErrors.name ? true : undefined}
                aria-describedby={describedBy("name")}
                className={input("name")}
              />
              {fieldError("name")}
            </div>
          )}
          <div>
            <label htmlFor={`${id}-email`} className="block text-sm font-medium text-gray-900">
              Email
            </label>
            <input
              id={`${id}-email`}
              name="email"
              type="email"
              autoComplete="email"
              required
              aria-invalid={fieldErrors.email ? true : undefined}
              aria-describedby={describedBy("email")}
              className={input("email")}
            />
            {fieldError("email")}
          </div>
          <div>
            <label htmlFor={`${id}-password`} className="block text-sm font-medium text-gray-900">
              Password
            </label>
            <input
              id={`${id}-password`}
              name="password"
              type="password"
              autoComplete={mode === "sign-in" ? "current-password" : "new-password"}
              required
              aria-invalid={fieldErrors.password ? true : undefined}
              aria-describedby={describedBy("password", mode === "sign-up" ? `${id}-password-help` : undefined)}
              className={input("password")}
            />
            {mode === "sign-up" && (
              <p id={`${id}-password-help`} className="mt-1 text-xs text-gray-500">
                At least {MIN_PASSWORD_LENGTH} characters.
              </p>
            )}
            {fieldError("password")}
          </div>
          {error && (
            <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
              {error}
            </p>
          )}
          <button
            type="submit"
            disabled={pending}
            className="h-10 w-full rounded-md bg-blue-600 px-4 text-sm font-medium text-white shadow-sm hover:bg-blue-700 disabled:opacity-60"
          >
            {pending ? "Please wait…" : mode === "sign-in" ? "Sign in" : "Create account"}
          </button>
        </form>
      </div>
      <p className="mt-6 text-sm text-gray-600">
        {mode === "sign-in" ? (
          <>
            No account yet?{" "}
            <Link className="font-medium text-blue-700 hover:underline" href={otherHref}>
              Create one
            </Link>
          </>
        ) : (
          <>
            Already have an account?{" "}
            <Link className="font-medium text-blue-700 hover:underline" href={otherHref}>
              Sign in
            </Link>
          </>
        )}
      </p>
    </main>
  );
}
