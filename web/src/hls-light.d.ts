// hls.js ships types for its full build only; the light build (no subtitles, alternate audio,
// DRM, CMCD or interstitials, none of which an onair channel's HLS output uses) has the same API.
declare module "hls.js/light" {
  import Hls from "hls.js";
  export * from "hls.js";
  export default Hls;
}
