import { render } from 'preact';

const root = document.getElementById('app')!;
const settings = JSON.parse(root.dataset.settings ?? '{}') as { title?: string };
render(<h1>{settings.title ?? 'Reseolio'}</h1>, root);
