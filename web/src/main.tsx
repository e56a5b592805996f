/**
 * The operator console's entry: the wall at `/`, a channel's page at `/channels/:id` (its own
 * chunk, loaded on first visit; it alone loads hls.js). One EventSource for the page's life,
 * whatever the route.
 */
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { ComponentType } from "preact";
import { startLive } from "./live";
import { parseRoute, usePath } from "./router";
import { Header } from "./ui/Header";
import { Wall } from "./wall/Wall";
import "./styles.css";

type ChannelPageType = ComponentType<{ id: string }>;
let channelPage: ChannelPageType | undefined;

function useChannelPage(wanted: boolean): { page?: ChannelPageType; error?: string } {
  const [state, setState] = useState<{ page?: ChannelPageType; error?: string }>({ page: channelPage });
  useEffect(() => {
    if (!wanted || state.page) return;
    import("./channel/ChannelPage")
      .then((m) => {
        channelPage = m.ChannelPage;
        setState({ page: m.ChannelPage });
      })
      .catch(() => setState({ error: "The channel page could not be loaded (is the daemon up?). Reload to try again." }));
  }, [wanted, state.page]);
  return state;
}

function App() {
  const path = usePath();
  const route = parseRoute(path);
  const { page: ChannelPage, error } = useChannelPage(route.page === "channel");
  const first = useRef(true);

  // after a navigation (not the first render), move focus to the new page's heading
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h = document.querySelector<HTMLElement>("main h1");
    h?.focus();
    window.scrollTo(0, 0);
  }, [path, ChannelPage]);

  let body;
  if (route.page === "wall") body = <Wall />;
  else if (route.page === "channel") body = ChannelPage ? <ChannelPage id={route.id} /> : <p class="empty">{error ?? "Loading…"}</p>;
  else
    body = (
      <section>
        <h1 tabIndex={-1}>Not found</h1>
        <p>
          Nothing here: <a href="/">back to the channels</a>.
        </p>
      </section>
    );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main">{body}</main>
    </>
  );
}

startLive();
const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
