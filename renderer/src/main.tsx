import './zod-without-eval';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ConnectionProvider } from './api/api-context';
import { openConnection } from './api/connection';
import { shouldRetry } from './api/queries';
import { App } from './app';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: shouldRetry,
      // Focus changes are frequent on an operator's desk; hosts.changed keeps data current.
      refetchOnWindowFocus: false,
      staleTime: 5_000,
    },
    mutations: { retry: false },
  },
});

// Opened outside React so a re-render or StrictMode's double effects never open a second pipe.
const connection = openConnection();

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
createRoot(container).render(
  <StrictMode>
    <ConnectionProvider connection={connection}>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </ConnectionProvider>
  </StrictMode>,
);
