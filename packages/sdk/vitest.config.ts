import { unitConfig } from "@ona/vitest-config";
export default unitConfig();
