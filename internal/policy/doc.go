// Package policy decides whether a privileged command may go on to approval,
// from the admin-reviewed command policy (command-policy.json) and a set of
// built-in rules, and reads the prompt policy (prompt-policy.json). A command
// the policy allows is still only a candidate: the guard asks a person to
// approve it.
//
// # Command policy file
//
// The format is the original Python skill's:
//
//	{
//	  "allow":       ["^systemctl (restart|status) nginx$"],
//	  "deny":        ["^rm ", {"pattern": "--no-preserve-root", "comment": "never"}],
//	  "allow_exact": [["apt-get", "update"], {"argv": ["systemctl", "restart", "nginx"], "comment": "web"}],
//	  "deny_exact":  [["reboot"]],
//	  "comment":     "reviewed by ops"
//	}
//
// All keys are optional. Regex lists hold strings or {"pattern", "comment"}
// objects, exact lists hold argv arrays or {"argv", "comment"} objects; a
// top-level "comment", "_comment" (strings) and "version" are accepted and
// ignored. Any other key is an error naming it, so a typo such as
// "alow_exact" cannot silently drop rules. Errors about the content wrap
// [safefile.ErrInvalid].
//
// # Matching
//
// Regexes use Go's RE2 syntax (package regexp): matching takes time linear in
// the input, so no pattern can backtrack catastrophically, and Python-only
// syntax (lookarounds such as (?=, backreferences such as \1, \Z) is
// rejected when the file is parsed, naming the list, index and pattern. They
// are matched with search semantics, like Python's re.search: unanchored
// unless the pattern says ^ or $. The subject is the argv joined by
// [ShellJoin], exactly as Python's shlex.join would. \w, \d, \s and \b are
// ASCII-only in RE2, and Unicode-aware in Python; (?x) is not supported.
//
// An exact entry matches only the whole argv, element by element: the entry
// ["systemctl", "restart", "nginx"] does not match
// "systemctl restart nginx --now", so approval of a command cannot be
// stretched with extra arguments.
//
// A rule, regex or exact, matches when it matches any of three forms of the
// command, which differ only in argv[0]:
//
//  1. argv[0] as given ("systemctl" or "/usr/bin/systemctl"),
//  2. argv[0] replaced by the absolute path the guard resolved it to,
//  3. argv[0] replaced by the base name of that path ("systemctl").
//
// So "^systemctl restart " and ["systemctl", "restart", "nginx"] work
// whether the agent typed the bare name or the full path, and an admin may
// pin a full path in a rule instead.
//
// # Decision order
//
// Deny wins. [Policy.DecideIn] (and [Policy.Decide], which does not know
// the working directory) goes through, and stops at the first that applies:
//
//  1. a deny_exact entry matches: refused;
//  2. a deny regex matches: refused;
//  3. an allow_exact entry matches: allowed. This is the only way past the
//     built-in rules (step 4): the admin names that very argv;
//  4. a built-in rule refuses (below): refused, rule "builtin:<kind>";
//  5. the policy has allow or allow_exact entries: allowed if an allow regex
//     matches, else refused ("not in allow list");
//  6. otherwise, including when there is no policy file (a nil *Policy):
//     allowed ("allow (no allow list)").
//
// # Built-in rules
//
// These go beyond the original, which let an allow regex such as "^sudo " or
// "^find " hand out a root shell. They look at the base name of argv[0] as
// given and of the resolved path (lower-cased; a Debian alternative suffix
// such as ".basic" and a version suffix such as "3.11" or "5.36" are
// stripped, so python3.11 is python and vim.basic is vim). A program's
// symlinks are not followed: the guard runs the path it resolved, and
// multi-call binaries such as busybox act on the name they are called by. A
// root-made copy or link of a shell under another name is therefore not
// recognised. The kinds, tried in this order:
//
//   - privilege-tool: sudo, sudo-rs, sudoedit, su, doas, pkexec, runuser,
//     setpriv, capsh, chroot, nsenter, unshare, machinectl, systemd-run,
//     run0, systemd-nspawn, login, newgrp, sg, chpst, setuidgid,
//     s6-setuidgid, bwrap, firejail: another privilege or identity tool
//     run under sudo. This also catches "sudo -s", "sudo -i",
//     "sudo -u root …" and "sudo -E …" given as the command.
//   - privilege-file: writing, replacing, linking, truncating, or changing
//     the owner, group or mode of a file that decides who becomes root:
//     /etc/sudoers, /etc/sudoers.d and anything in it, /etc/sudo.conf,
//     /etc/shadow, /etc/gshadow, /etc/passwd, /etc/group,
//     /etc/ld.so.preload, /etc/doas.conf, /etc/pam.d and anything in it.
//     By tee (its files); cp, mv, install and ln (any operand, sources
//     too, since a copy of /etc/shadow is a copy of its password hashes;
//     -t and --target-directory; and /etc as the target directory, since
//     what lands there is named after its source); dd (of= and if=); sed
//     with -i or --in-place (the files after the script), or whose script
//     names the file in a w command; chown, chgrp, chmod and truncate.
//     Also refused: recursion from /etc or a directory above it (cp -r,
//     mv, chown -R, chgrp -R, chmod -R); chmod setting the setuid or
//     setgid bit on anything (u+s, g+s, +s, 4755, 2755; the sticky bit,
//     1777, is fine), or copying a mode with --reference; install -m with
//     those bits; cp keeping the mode but not the owner (--preserve=mode,
//     or -a with --no-preserve=ownership), which makes an agent's setuid
//     program setuid-root; chmod letting group or others write /etc or a
//     directory above it; chown and chgrp (and install -o and -g) giving
//     /etc, a file in it or a directory above it to a user or group other
//     than root (root or 0), or copying an owner with --reference; install
//     -d of /etc or above; and, as exec-wrapper, install --strip-program,
//     which runs a program. Paths are compared cleaned and ignoring case
//     (macOS), with macOS's /private/etc read as /etc. A relative path is
//     read in the working directory given to [Policy.DecideIn], or, when
//     that is unknown, by its name alone (shadow, sudoers, pam.d/x, …).
//     Unlike program names, paths are followed through symlinks, even one
//     whose target does not exist yet, and both forms are checked: an
//     agent's "ln -s /etc /tmp/l" makes /tmp/l/shadow /etc/shadow.
//   - shell: sh, bash, dash, zsh, ksh, fish, busybox, toybox, … and tools
//     that run a shell (screen, tmux, script, expect), always.
//   - interpreter: python, perl, ruby, node, php, lua, tclsh, awk and its
//     variants, Rscript, julia, guile, gdb, sqlite3 (.shell), … always:
//     inline code, stdin, a REPL and a script file all run arbitrary code.
//   - exec-wrapper: programs that run the program named in their
//     arguments: env, xargs, nice, nohup, timeout, stdbuf, setsid, strace,
//     ltrace, valgrind, watch, flock, ionice, taskset, time, chrt,
//     start-stop-daemon, run-parts, parallel, perf, unbuffer, catchsegv,
//     at, …; find only with -exec, -execdir, -ok, -okdir, -fprint,
//     -fprint0, -fprintf or -fls; ip only with netns/vrf exec or -batch.
//   - escape-route: GTFOBins-style escapes of common tools. Always:
//     editors and pagers (vi, vim, nano, emacs, less, more, man, info,
//     vipw, …), git, make, and ftp, sftp, mysql, mariadb and psql (shell
//     escapes). Only with certain arguments:
//     visudo without -c;
//     crontab -e or with a file (only -l and -r pass);
//     systemctl edit, link, or enable with a path;
//     ssh and scp -o with ProxyCommand, LocalCommand, PermitLocalCommand,
//     KnownHostsCommand, PKCS11Provider, SecurityKeyProvider,
//     XAuthLocation, Include or Match, and -F; ssh -I; scp -S and -D;
//     ssh-keygen -D;
//     rsync -e, --rsh, --rsync-path, --config, --daemon, --dparam;
//     tar -I, -F, --checkpoint-action, --to-command,
//     --use-compress-program, --rsh-command, --rmt-command, --info-script,
//     --new-volume-script;
//     zip -T, -TT, --test, --unzip-command;
//     apt, apt-get and aptitude with -o, -c, --option, --config-file,
//     changelog, source --compile, or install of a local package file
//     (./x.deb, /tmp/x.deb);
//     dpkg -i, --install, --unpack, --root, --instdir, --admindir,
//     --pre-invoke, --post-invoke, --status-logger;
//     docker, podman, nerdctl, ctr, crictl, kubectl, docker-compose, lxc
//     and incus with run, exec, cp, debug, attach, create, start, up,
//     apply, replace or patch;
//     tcpdump -z; nmap --script, --interactive, --datadir (one dash too);
//     wget -e, --execute, --use-askpass, --config.
//
// Options are read the way the tools read them: "--opt=value" and
// "--opt value", unambiguous prefixes of long options ("--to-com",
// "--target"), combined short options ("tar -xI prog", "rsync -ave cmd",
// "cp -rt DIR"), tar's old style ("tar xIf prog a.tar"), sed's -i[SUFFIX],
// chmod's modes that look like options ("chmod -x,+s f"), and "--" ending
// the options. Where the parse is unsure it errs towards refusing.
//
// Not covered, and left to deny rules and the person approving: tools that
// overwrite other files as root (cp, mv, tee, dd, install, sed -i, ln,
// rsync, tar, wget -O, curl -o), which are what sudo is for, even files in
// /etc that root runs (crontab, cron.d, systemd units, profile.d); a
// symlink or directory swapped between the decision and the run (paths are
// checked when the command is decided); hard links; rsync and tar writing
// privilege files; the owner cp -p and mv keep; sed's e command and the w
// commands of a script file (-f); package managers other than apt and
// dpkg (rpm, pip, npm, gem) installing packages whose scripts run as root;
// service and init scripts; pagers that systemctl, journalctl and dpkg -l
// open on a terminal (sudo resets the environment and systemd runs its
// pager in secure mode under sudo, which disables the shell escape of
// less); and any tool with an escape not listed here.
//
// # Prompt policy
//
// prompt-policy.json is {"require_confirmation_for_untrusted": true}; a
// missing file or key means true (see [LoadPrompt]).
package policy
