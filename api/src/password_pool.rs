//! A fixed few threads for password checks. Argon2 takes 19 MiB and tens of
//! milliseconds per check by design; on tokio's blocking pool a storm of logins grew
//! hundreds of threads, each of which left its 19 MiB in its own allocator arena. Here
//! the threads, and with them the memory, are fixed at start.

use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// The password-check threads.
pub struct PasswordPool {
    sender: SyncSender<Job>,
    /// One per thread: a job is only sent with one, so the channel never fills and a
    /// request waits here, on the async side, for a free thread.
    permits: Arc<Semaphore>,
}

impl PasswordPool {
    /// Starts `threads` threads (at least one); fails when the system refuses a thread.
    pub fn start(threads: usize) -> std::io::Result<PasswordPool> {
        let threads = threads.max(1);
        let (sender, receiver) = sync_channel::<Job>(threads);
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for i in 0..threads {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                            Ok(job) => job,
                            Err(_) => break,
                        };
                        // A panic in one check must not take the thread with it.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(PasswordPool {
            sender,
            permits: Arc::new(Semaphore::new(threads)),
        })
    }

    /// Runs `check` on a password thread, waiting at most `wait` for a free one; `None`
    /// when none came free in time (or the check panicked).
    pub async fn run<T: Send + 'static>(
        &self,
        wait: Duration,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let permit = tokio::time::timeout(wait, Arc::clone(&self.permits).acquire_owned())
            .await
            .ok()?
            .ok()?;
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(check());
            // Only now is the thread free again, whether or not anyone still waits.
            drop(permit);
        });
        self.sender.try_send(job).ok()?;
        answer.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_checks_at_once_than_threads() {
        let pool = Arc::new(PasswordPool::start(2).unwrap());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let (pool, running, most) =
                    (Arc::clone(&pool), Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(async move {
                    pool.run(Duration::from_secs(10), move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        i
                    })
                    .await
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), Some(i));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
        // With both threads busy, a short wait gives up.
        let blocker = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                tokio::join!(
                    pool.run(Duration::from_secs(1), || std::thread::sleep(
                        Duration::from_millis(300)
                    )),
                    pool.run(Duration::from_secs(1), || std::thread::sleep(
                        Duration::from_millis(300)
                    ))
                )
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.run(Duration::from_millis(10), || 1).await, None);
        let _ = blocker.await;
    }
}
