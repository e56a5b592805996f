import type { Command } from "commander";
import { out } from "./io.js";

/**
 * `onair demo`: the demo channel (test source → injector → UDP and a recording) comes with
 * the pipeline work; until then it says so and points at what already works.
 */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("run the demo channel (arrives with the pipeline work)")
    .action(() => {
      out("onair demo: the demo channel arrives with the pipeline work.");
      out("Until then, try the tools that work today:");
      out("  npx onair scte35 decode /DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=");
      out("  npx onair inspect FILE.ts");
      out("  npx onair --help");
    });
}
