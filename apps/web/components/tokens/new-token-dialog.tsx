"use client";

import { useId, useRef, useState, type FormEvent } from "react";
import { CreateTokenInput, TOKEN_EXPIRY_DAYS, type AccessLevel, type CreateTokenOutput, type ExpiresInDays } from "@ona/contracts";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { WarningIcon } from "@/components/ui/icons";
import { describeProblem, fieldErrorsOf } from "@/lib/errors";
import { DAY_MS, formatLongDate } from "@/lib/format";
import { useCreateToken } from "@/lib/queries";
import { UserText } from "../ui/user-text";

export const ACCESS_LEVELS: { value: AccessLevel; label: string; explanation: string }[] = [
  {
    value: "read-only",
    label: "Read-only",
    explanation: "Can list and view environments, tokens and audit entries; every change is refused.",
  },
  {
    value: "read-write",
    label: "Read & Write",
    explanation: "Can do anything your account can: create, start, stop and delete environments, revoke tokens.",
  },
];

export const accessLevelLabel = (level: AccessLevel) => (level === "read-only" ? "Read-only" : "Read & Write");

type Step = { kind: "form" } | { kind: "created"; result: CreateTokenOutput };

/**
 * "New Token": the form, then — once — the secret, until the user says they have it. The page
 * owns `open`, so the dialog outlives whichever button opened it (the empty state's goes away
 * as soon as the first token exists).
 */
export function NewTokenDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const [step, setStep] = useState<Step>({ kind: "form" });

  function change(next: boolean) {
    onOpenChange(next);
    // The secret leaves memory with the dialog: closing is the dismissal.
    if (!next) setStep({ kind: "form" });
  }

  return (
    <Dialog open={open} onOpenChange={change}>
      {step.kind === "form" ? (
        <DialogContent
          title="New personal access token"
          description="Tokens let the ona CLI, the SDK and CI pipelines act as you. Give each one a purpose and the least access it needs."
          className="max-w-xl"
          data-testid="new-token-dialog"
        >
          <NewTokenForm onCancel={() => change(false)} onCreated={(result) => setStep({ kind: "created", result })} />
        </DialogContent>
      ) : (
        <DialogContent
          title="Copy your new token"
          description={
            <>
              “<UserText text={step.result.token.description} />” is ready.
            </>
          }
          className="max-w-xl"
          data-testid="token-created-dialog"
          hideClose
          // A stray click outside must not lose a secret that cannot be shown again.
          onPointerDownOutside={(event) => event.preventDefault()}
          onInteractOutside={(event) => event.preventDefault()}
        >
          <TokenCreated result={step.result} onDone={() => change(false)} />
        </DialogContent>
      )}
    </Dialog>
  );
}

function NewTokenForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (result: CreateTokenOutput) => void }) {
  const id = useId();
  const [description, setDescription] = useState("");
  const [expiresInDays, setExpiresInDays] = useState<ExpiresInDays>(30);
  const [accessLevel, setAccessLevel] = useState<AccessLevel>("read-only");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const descriptionRef = useRef<HTMLInputElement>(null);
  const create = useCreateToken();
  const expiresOn = new Date(Date.now() + expiresInDays * DAY_MS);

  function showErrors(fieldErrors: Record<string, string>) {
    setErrors(fieldErrors);
    if (fieldErrors.description) descriptionRef.current?.focus();
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setFormError(null);
    // The contract's own schema: the same rules, and the same words, as the server's.
    const parsed = CreateTokenInput.safeParse({ description, expiresInDays, accessLevel });
    if (!parsed.success) {
      showErrors(fieldErrorsOf(parsed.error.issues));
      return;
    }
    setErrors({});
    try {
      onCreated(await create.mutateAsync(parsed.data));
    } catch (error) {
      const problem = describeProblem(error);
      if (problem.issues.length > 0) showErrors(fieldErrorsOf(problem.issues));
      setFormError(`${problem.title}: ${problem.message}`);
    }
  }

  const descriptionError = errors.description;
  return (
    <form onSubmit={onSubmit} noValidate className="space-y-6">
      <div>
        <label htmlFor={`${id}-description`} className="block text-sm font-medium text-gray-900">
          Description
        </label>
        <input
          ref={descriptionRef}
          id={`${id}-description`}
          name="description"
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          autoFocus
          autoComplete="off"
          placeholder="e.g. GitHub Actions deploy"
          aria-invalid={descriptionError ? true : undefined}
          aria-describedby={`${id}-description-help${descriptionError ? ` ${id}-description-error` : ""}`}
          className={`mt-1 block w-full rounded-md border px-3 py-2 text-sm shadow-sm ${
            descriptionError ? "border-red-500 focus-visible:outline-red-600" : "border-gray-300"
          }`}
        />
        <div className="mt-1 flex justify-between gap-4 text-xs">
          <p id={`${id}-description-help`} className="text-gray-500">
            What is this token for? Shown in the token list and the audit log.
          </p>
          <span className={description.trim().length > 100 ? "text-red-700" : "text-gray-500"} aria-hidden="true">
            {description.trim().length}/100
          </span>
        </div>
        {descriptionError && (
          <p id={`${id}-description-error`} className="mt-1 text-sm text-red-700" data-testid="field-error-description">
            {descriptionError}
          </p>
        )}
      </div>

      <fieldset aria-describedby={`${id}-expiry`}>
        <legend className="text-sm font-medium text-gray-900">Expiration</legend>
        <div className="mt-2 inline-flex rounded-md shadow-sm" role="presentation">
          {TOKEN_EXPIRY_DAYS.map((days, index) => (
            <label
              key={days}
              className={`relative cursor-pointer border border-gray-300 px-4 py-2 text-sm has-[:checked]:z-10 has-[:checked]:border-blue-600 has-[:checked]:bg-blue-50 has-[:checked]:font-medium has-[:checked]:text-blue-800 has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-offset-2 has-[:focus-visible]:outline-blue-600 ${
                index === 0 ? "rounded-l-md" : "-ml-px"
              } ${index === TOKEN_EXPIRY_DAYS.length - 1 ? "rounded-r-md" : ""}`}
            >
              <input
                type="radio"
                name="expiresInDays"
                value={days}
                checked={expiresInDays === days}
                onChange={() => setExpiresInDays(days)}
                className="sr-only"
              />
              {days} days
            </label>
          ))}
        </div>
        <p id={`${id}-expiry`} className="mt-2 text-sm text-gray-600" aria-live="polite" data-testid="expiry-date">
          The token will expire on <strong className="font-medium text-gray-900">{formatLongDate(expiresOn)}</strong>.
        </p>
        {errors.expiresInDays && <p className="mt-1 text-sm text-red-700">{errors.expiresInDays}</p>}
      </fieldset>

      <fieldset aria-describedby={`${id}-access-note`}>
        <legend className="text-sm font-medium text-gray-900">Access level</legend>
        <p id={`${id}-access-note`} className="mt-1 text-xs text-gray-500">
          Set now and cannot be changed later: to switch, revoke the token and create a new one.
        </p>
        <div className="mt-2 grid gap-3 sm:grid-cols-2">
          {ACCESS_LEVELS.map((level) => (
            <label
              key={level.value}
              className="flex cursor-pointer gap-3 rounded-lg border border-gray-300 p-3 has-[:checked]:border-blue-600 has-[:checked]:bg-blue-50/60 has-[:checked]:ring-1 has-[:checked]:ring-blue-600"
            >
              <input
                type="radio"
                name="accessLevel"
                value={level.value}
                checked={accessLevel === level.value}
                onChange={() => setAccessLevel(level.value)}
                aria-describedby={`${id}-${level.value}-explanation`}
                className="mt-0.5 size-4 accent-blue-600"
              />
              <span>
                <span className="block text-sm font-medium text-gray-900">{level.label}</span>
                <span id={`${id}-${level.value}-explanation`} className="mt-0.5 block text-xs text-gray-600">
                  {level.explanation} Cannot be changed later.
                </span>
              </span>
            </label>
          ))}
        </div>
        {errors.accessLevel && <p className="mt-1 text-sm text-red-700">{errors.accessLevel}</p>}
      </fieldset>

      {formError && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {formError}
        </p>
      )}

      <div className="flex justify-end gap-3 border-t border-gray-100 pt-5">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create"}
        </Button>
      </div>
    </form>
  );
}

function TokenCreated({ result, onDone }: { result: CreateTokenOutput; onDone: () => void }) {
  const id = useId();
  return (
    <div className="space-y-5">
      <div role="alert" className="flex gap-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
        <WarningIcon className="mt-0.5 size-5 shrink-0 text-amber-600" />
        <p>
          <strong className="font-semibold">Copy your token now — you won’t see it again.</strong> Ona stores only a hash of it. If you lose it,
          revoke it and create a new one.
        </p>
      </div>
      <div>
        <label htmlFor={`${id}-secret`} className="block text-sm font-medium text-gray-900">
          Your new personal access token
        </label>
        <div className="mt-1 flex items-center gap-2">
          <input
            id={`${id}-secret`}
            readOnly
            value={result.secret}
            onFocus={(event) => event.currentTarget.select()}
            data-testid="token-secret"
            className="block w-full rounded-md border border-gray-300 bg-gray-50 px-3 py-2 font-mono text-sm text-gray-900"
          />
          <CopyButton text={result.secret} label="Copy token" variant="primary" />
        </div>
      </div>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-gray-500">Access</dt>
        <dd className="text-gray-900">{accessLevelLabel(result.token.accessLevel)}</dd>
        <dt className="text-gray-500">Expires</dt>
        <dd className="text-gray-900">{formatLongDate(result.token.expiresAt)}</dd>
      </dl>
      <div className="rounded-md bg-gray-900 p-3 font-mono text-xs text-gray-100">
        <span className="text-gray-400">$ </span>ona login --token &lt;your-token&gt;
      </div>
      <div className="flex justify-end border-t border-gray-100 pt-5">
        <Button onClick={onDone}>I have copied it, close</Button>
      </div>
    </div>
  );
}
