/** Entry point of the workbench webview bundle (dist/webview/main.js + main.css). */
import '../../media/webview.css';
import './styles/training.css';
import './styles/parallel.css';
import './styles/advice.css';
import './styles/tuning.css';
import './styles/trace.css';
import './components';
import { startApp } from './app';

const app = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
startApp(app);
