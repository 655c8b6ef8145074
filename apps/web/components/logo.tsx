/** Ona's mark and name. */
export function Logo({ className = "" }: { className?: string }) {
  return (
    <span className={`inline-flex items-center gap-2 text-lg font-semibold text-gray-900 ${className}`}>
      <svg viewBox="0 0 32 32" aria-hidden="true" focusable="false" className="size-7">
        <rect width="32" height="32" rx="7" fill="#111827" />
        <circle cx="16" cy="16" r="7.5" fill="none" stroke="#fff" strokeWidth="3.5" />
      </svg>
      Ona
    </span>
  );
}
