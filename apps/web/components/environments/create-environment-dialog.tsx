"use client";

import { useId, useRef, useState, type FormEvent } from "react";
import { CreateEnvironmentInput, type Environment } from "@ona/contracts";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { describeProblem, fieldErrorsOf } from "@/lib/errors";
import { useCreateEnvironment, useEnvironmentClasses } from "@/lib/queries";

/** New environment: a repository to clone and a class to run it on. */
export function CreateEnvironmentDialog({
  open,
  onOpenChange,
  onCreated,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onCreated: (environment: Environment) => void;
}) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent
        title="New environment"
        description="Ona clones the repository into a fresh environment, runs its setup and keeps it running until you stop it."
        data-testid="new-environment-dialog"
      >
        <CreateEnvironmentForm onCancel={() => onOpenChange(false)} onCreated={onCreated} />
      </DialogContent>
    </Dialog>
  );
}

function CreateEnvironmentForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (environment: Environment) => void }) {
  const id = useId();
  const classes = useEnvironmentClasses();
  const create = useCreateEnvironment();
  const [contextUrl, setContextUrl] = useState("");
  const [chosenClass, setChosenClass] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const urlRef = useRef<HTMLInputElement>(null);

  const enabled = classes.data?.filter((c) => c.enabled) ?? [];
  const classId = chosenClass ?? enabled[0]?.id ?? "";
  const selectedClass = classes.data?.find((c) => c.id === classId);

  function showErrors(fieldErrors: Record<string, string>) {
    setErrors(fieldErrors);
    if (fieldErrors.contextUrl) urlRef.current?.focus();
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setFormError(null);
    const parsed = CreateEnvironmentInput.safeParse({
      contextUrl,
      ...(classId ? { classId } : {}),
      ...(name.trim() ? { name } : {}),
    });
    if (!parsed.success) {
      showErrors(fieldErrorsOf(parsed.error.issues));
      return;
    }
    setErrors({});
    try {
      const { environment } = await create.mutateAsync(parsed.data);
      onCreated(environment);
    } catch (error) {
      const problem = describeProblem(error);
      if (problem.issues.length > 0) showErrors(fieldErrorsOf(problem.issues));
      setFormError(`${problem.title}: ${problem.message}`);
    }
  }

  const field = "mt-1 block w-full rounded-md border px-3 py-2 text-sm shadow-sm";
  return (
    <form onSubmit={onSubmit} noValidate className="space-y-5">
      <div>
        <label htmlFor={`${id}-url`} className="block text-sm font-medium text-gray-900">
          Repository URL
        </label>
        <input
          ref={urlRef}
          id={`${id}-url`}
          name="contextUrl"
          value={contextUrl}
          onChange={(event) => setContextUrl(event.target.value)}
          autoComplete="off"
          spellCheck={false}
          placeholder="https://github.com/your-org/your-repo"
          aria-invalid={errors.contextUrl ? true : undefined}
          aria-describedby={`${id}-url-help${errors.contextUrl ? ` ${id}-url-error` : ""}`}
          className={`${field} font-mono ${errors.contextUrl ? "border-red-500" : "border-gray-300"}`}
        />
        <p id={`${id}-url-help`} className="mt-1 text-xs text-gray-500">
          Anything git can clone: an https or ssh URL, or a path to a repository on the server.
        </p>
        {errors.contextUrl && (
          <p id={`${id}-url-error`} className="mt-1 text-sm text-red-700">
            {errors.contextUrl}
          </p>
        )}
      </div>

      <div>
        <label htmlFor={`${id}-class`} className="block text-sm font-medium text-gray-900">
          Class
        </label>
        {classes.isPending ? (
          <p className="mt-1 text-sm text-gray-500" role="status">
            Loading classes…
          </p>
        ) : classes.isError ? (
          <p className="mt-1 text-sm text-red-700" role="alert">
            Could not load the environment classes: {describeProblem(classes.error).message}{" "}
            <button type="button" className="underline" onClick={() => void classes.refetch()}>
              Try again
            </button>
          </p>
        ) : enabled.length === 0 ? (
          <p className="mt-1 text-sm text-amber-800" role="alert">
            No environment class is available: a runner registers its classes when it starts. Ask your administrator to start one.
          </p>
        ) : (
          <>
            <select
              id={`${id}-class`}
              name="classId"
              value={classId}
              onChange={(event) => setChosenClass(event.target.value)}
              aria-invalid={errors.classId ? true : undefined}
              aria-describedby={`${id}-class-help`}
              className={`${field} bg-white ${errors.classId ? "border-red-500" : "border-gray-300"}`}
            >
              {classes.data.map((c) => (
                <option key={c.id} value={c.id} disabled={!c.enabled}>
                  {c.displayName}
                  {c.enabled ? "" : " (disabled)"}
                </option>
              ))}
            </select>
            <p id={`${id}-class-help`} className="mt-1 text-xs text-gray-500">
              {selectedClass?.description || "What machine the environment gets."}
            </p>
            {errors.classId && <p className="mt-1 text-sm text-red-700">{errors.classId}</p>}
          </>
        )}
      </div>

      <div>
        <label htmlFor={`${id}-name`} className="block text-sm font-medium text-gray-900">
          Name <span className="font-normal text-gray-500">(optional)</span>
        </label>
        <input
          id={`${id}-name`}
          name="name"
          value={name}
          onChange={(event) => setName(event.target.value)}
          autoComplete="off"
          placeholder="Defaults to the repository name"
          aria-invalid={errors.name ? true : undefined}
          className={`${field} ${errors.name ? "border-red-500" : "border-gray-300"}`}
        />
        {errors.name && <p className="mt-1 text-sm text-red-700">{errors.name}</p>}
      </div>

      {formError && (
        <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">
          {formError}
        </p>
      )}

      <div className="flex justify-end gap-3 border-t border-gray-100 pt-5">
        <Button variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" disabled={create.isPending || (classes.isSuccess && enabled.length === 0)}>
          {create.isPending ? "Creating…" : "Create environment"}
        </Button>
      </div>
    </form>
  );
}
