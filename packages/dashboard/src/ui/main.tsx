import { type ComponentChildren, render } from 'preact';
import { href, useLocation } from './router.ts';
import type { Settings } from './types.ts';
import { JobPageView } from './views/job.tsx';
import { JobsView } from './views/jobs.tsx';
import { OverviewView } from './views/overview.tsx';
import { SchedulesView } from './views/schedules.tsx';

const root = document.getElementById('app')!;
const settings: Settings = {
  title: 'Reseolio',
  readOnly: true,
  ...(JSON.parse(root.dataset.settings ?? '{}') as Partial<Settings>),
};

function App() {
  const { segments, params } = useLocation();
  const [view, id] = segments;
  let content: ComponentChildren;
  let current: string;
  if (view === 'jobs' && id !== undefined) {
    current = 'jobs';
    content = <JobPageView key={id} id={id} settings={settings} />;
  } else if (view === 'jobs') {
    current = 'jobs';
    content = <JobsView params={params} settings={settings} />;
  } else if (view === 'schedules') {
    current = 'schedules';
    content = <SchedulesView settings={settings} />;
  } else if (view === undefined) {
    current = 'overview';
    content = <OverviewView />;
  } else {
    current = '';
    content = (
      <section>
        <h2>Not found</h2>
        <p>
          There is no view <code>{view}</code>. <a href={href('/')}>Go to the overview</a>.
        </p>
      </section>
    );
  }
  const link = (name: string, path: string, label: string) => (
    <a href={href(path)} aria-current={current === name ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <header class="top">
        <h1>{settings.title}</h1>
        <nav aria-label="Views">
          {link('overview', '/', 'Overview')}
          {link('jobs', '/jobs', 'Jobs')}
          {link('schedules', '/schedules', 'Schedules')}
        </nav>
        {settings.readOnly && (
          <span class="badge readonly" title="Actions are turned off">
            read-only
          </span>
        )}
      </header>
      <main>{content}</main>
    </>
  );
}

// The server's "Loading…" line goes; Preact would otherwise keep it beside the app.
root.textContent = '';
render(<App />, root);
