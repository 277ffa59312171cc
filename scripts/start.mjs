// `npm start`: install what is missing, build, and serve the production build on http://localhost.
// WebGPU needs a secure context; http://localhost is one.
import { ensureDependencies, runOrExit } from './setup.mjs';

ensureDependencies();
runOrExit('npx', ['vite', 'build']);
const port = process.env.PORT ?? '5173';
console.log(`\nServing PEFT Edge Lab on http://localhost:${port}/ (Ctrl+C to stop)`);
runOrExit('npx', ['vite', 'preview', '--host', 'localhost', '--port', port, '--strictPort']);
