#!/usr/bin/env bash
# Serve gru-viz to a class or a school: N `streamlit run app.py` replicas on 127.0.0.1 behind Debian's nginx.
#
#   bash scripts/serve.sh [--replicas N] [--port P] [--address A] [--class] [--run-dir DIR] [-- STREAMLIT ARGS]
#
#   --replicas N   Streamlit processes (default: the number of cores). One Streamlit server runs every session's
#                  script on one core; N replicas use N cores.
#   --port P       where nginx listens (default 8501); students open http://<this machine>:P/
#   --address A    the interface nginx binds (default 0.0.0.0: every interface, so the LAN can reach it;
#                  127.0.0.1 keeps it to this machine). The replicas always bind 127.0.0.1 only.
#   --class        the classroom profile: lower caps on what a link may ask for (GRU_VIZ_PROFILE=class)
#   --run-dir DIR  nginx's config, pid, logs and temp files and the replicas' logs (default: a new /tmp dir)
#   --health-interval S, --hung-after S, --hung-kill-after S   health check period (1 s), how long a replica may
#                  fail its health check before it is taken out of rotation (3 s), and killed + restarted (20 s)
#
# What it does, in the foreground until Ctrl-C / SIGTERM (which stop everything it started):
#   - starts the replicas, each in its own process group, on free ports of 127.0.0.1;
#   - starts nginx as this user (as `nobody` when run as root) with its own config under the run dir (no system
#     nginx file is read or written): websocket upgrade, and sticky sessions by a cookie nginx sets to the
#     replica that served the request (`gruviz=rK`). A Streamlit session lives on one replica: its websocket,
#     uploads and downloads must reach that one. Not ip_hash: a class behind one NAT address would all land on
#     one replica. A tab without the cookie goes to the next replica in turn;
#   - polls every replica's /_stcore/health (nginx's own checks are passive only): a replica that stops
#     answering (hung, e.g. SIGSTOP) is taken out of rotation within --hung-after seconds, back in when it
#     answers again, killed and restarted after --hung-kill-after; a replica that exits is restarted and rejoins.
#     Every change rewrites the upstreams and reloads nginx (`nginx -s reload`, no dropped connection).
#   - a tab whose replica went reconnects through nginx to a live one, which serves the same view from its link.
#     What lived only in that replica's memory (an uploaded or trained model) is gone: the page says so.
#
# The run dir's `replicas` file lists "index pid port state" for each replica (rewritten on every change), and
# `serve.log` the events; tests and benchmarks/load_test.py read them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
say() { printf '[serve %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "${RUN:-/dev/null}/serve.log" 2>/dev/null || true; }
die() { printf '[serve] ERROR: %s\n' "$*" >&2; exit 1; }

REPLICAS=$(nproc 2>/dev/null || echo 2)
PORT=8501
ADDRESS=0.0.0.0
PROFILE=${GRU_VIZ_PROFILE:-}
RUN=
INTERVAL=1
HUNG_AFTER=3
HUNG_KILL_AFTER=20
START_TIMEOUT=180
EXTRA=()
while (($#)); do
    case $1 in
        --replicas) REPLICAS=$2; shift 2 ;;
        --port) PORT=$2; shift 2 ;;
        --address) ADDRESS=$2; shift 2 ;;
        --class) PROFILE=class; shift ;;
        --run-dir) RUN=$2; shift 2 ;;
        --health-interval) INTERVAL=$2; shift 2 ;;
        --hung-after) HUNG_AFTER=$2; shift 2 ;;
        --hung-kill-after) HUNG_KILL_AFTER=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        --) shift; EXTRA=("$@"); break ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done
[[ $REPLICAS =~ ^[1-9][0-9]*$ ]] || die "--replicas must be a whole number ≥ 1 (got $REPLICAS)"
[[ $PORT =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || die "--port must be a port number (got $PORT)"

NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n $NGINX ]] || die "nginx is not installed: run bash scripts/bootstrap.sh (it runs apt-get install nginx)"
PY=$ROOT/.venv/bin/python
[[ -x $PY ]] || die "$PY is missing: run bash scripts/bootstrap.sh"
command -v curl >/dev/null || die "curl is needed for the health checks: apt-get install curl"

if [[ -z $RUN ]]; then RUN=$(mktemp -d "${TMPDIR:-/tmp}/gru-viz-serve.XXXXXX"); fi
mkdir -p "$RUN"/logs
RUN=$(cd "$RUN" && pwd)
: >"$RUN/serve.log"
NGINX_RUN=()
NGX=$RUN/nginx  # nginx's config, pid, logs and temp files
mkdir -p "$NGX"
if [[ $(id -u) -eq 0 ]]; then  # never run a network-facing daemon as root: nginx runs as nobody
    NGINX_RUN=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    chmod 755 "$RUN"
    chown nobody:nogroup "$NGX"
    if ! "${NGINX_RUN[@]}" test -w "$NGX"; then  # a parent folder nobody may not enter: nginx's files go to a
        rmdir "$NGX"                              # folder of its own, linked from the run dir
        NGX=$(mktemp -d "${TMPDIR:-/tmp}/gru-viz-nginx.XXXXXX")
        chmod 755 "$NGX"
        chown nobody:nogroup "$NGX"
        ln -s "$NGX" "$RUN/nginx"
    fi
fi
mkdir -p "$NGX/tmp"
[[ $(id -u) -eq 0 ]] && chown nobody:nogroup "$NGX/tmp"

# ------------------------------------------------------------------------------------------------ replicas
declare -a PID PRT STATE FAILS BAD_SINCE
CHANGED=0

free_ports() {  # N ports nobody listens on now (the kernel picks them)
    "$PY" - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

start_replica() {  # index
    local i=$1 port
    port=$(free_ports 1)
    # own session = own process group: stopping it also stops what it started (e.g. its job workers).
    # gru_viz.app.replica is `streamlit run` with the app's modules imported before the first session.
    GRU_VIZ_PROFILE=$PROFILE PYTHONUNBUFFERED=1 setsid "$PY" -m gru_viz.app.replica run app.py \
        --server.address 127.0.0.1 --server.port "$port" --server.headless true \
        --browser.gatherUsageStats false --server.fileWatcherType none "${EXTRA[@]}" \
        >>"$RUN/logs/replica-$i.log" 2>&1 </dev/null &
    PID[i]=$!
    PRT[i]=$port
    STATE[i]=starting
    FAILS[i]=0
    BAD_SINCE[i]=$SECONDS
    say "replica $i: started (pid ${PID[i]}, 127.0.0.1:$port)"
}

stop_group() {  # pid [signal]
    kill "-${2:-TERM}" -- "-$1" 2>/dev/null || true
}

healthy() {  # index
    [[ $(curl -fsS -m 2 "http://127.0.0.1:${PRT[$1]}/_stcore/health" 2>/dev/null) == ok ]]
}

write_state() {
    local i tmp="$RUN/replicas.tmp"
    : >"$tmp"
    for ((i = 1; i <= REPLICAS; i++)); do echo "$i ${PID[i]} ${PRT[i]} ${STATE[i]}" >>"$tmp"; done
    mv "$tmp" "$RUN/replicas"
}

# -------------------------------------------------------------------------------------------------- nginx
proxy_directives() {  # the proxy's settings, for each location that passes to the replicas
    cat <<EOF
            proxy_pass http://\$gruviz_pool;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$http_host;  # with the port: Streamlit's websocket origin check compares it
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_connect_timeout 2s;  # a refused or hung replica: the next one is tried
            proxy_read_timeout 1d;     # a lesson's websocket stays open
            proxy_send_timeout 1d;
            proxy_request_buffering off;
            add_header Set-Cookie \$gruviz_set_cookie;
EOF
}

# Streamlit serves its frontend uncompressed: 8 MiB of JavaScript for a page with a chart, so 40 students opening
# the link on one Wi-Fi would pull 320 MiB at once. nginx serves a copy of those files, gzipped once here (the names
# carry a content hash, so they never change under a running server). WWW stays empty if that fails: the replicas
# then serve them, as without serve.sh.
WWW=
prepare_static() {
    local src dst=$NGX/www
    src=$("$PY" -c 'import importlib.util, os; print(os.path.dirname(importlib.util.find_spec("streamlit").origin))')
    [[ -d $src/static/static ]] || return 1
    rm -rf "$dst"
    mkdir -p "$dst"
    cp -r "$src/static/static" "$dst/static"
    find "$dst" -type f \( -name '*.js' -o -name '*.css' -o -name '*.svg' -o -name '*.json' \) -size +1k \
        -exec gzip -k -9 {} +
    chmod -R a+rX "$dst"
}

write_conf() {
    local i j conf="$NGX/nginx.conf.tmp" any=0 mark
    {
        cat <<EOF
# generated by scripts/serve.sh; rewritten when a replica joins or leaves
worker_processes 1;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 4096; }
http {
    log_format gruviz '\$remote_addr [\$time_local] "\$request" \$status \$body_bytes_sent '
                      'cookie=\$cookie_gruviz upstream=\$upstream_addr rt=\$request_time';
    access_log $NGX/access.log gruviz;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    client_max_body_size 64m;  # Streamlit's own upload cap (.streamlit/config.toml maxUploadSize) is lower
    server_tokens off;
    # The frontend's types (a module script served as text/plain is refused by the browser); no system file is read.
    types {
        text/html html; text/css css; application/javascript js mjs; application/json json map;
        image/svg+xml svg; image/png png; image/gif gif; font/woff2 woff2; font/ttf ttf;
    }
    default_type application/octet-stream;

    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }

    # A tab without the cookie: the next live replica in turn.
    upstream gruviz_any {
EOF
        for ((i = 1; i <= REPLICAS; i++)); do
            if [[ ${STATE[i]} == up ]]; then echo "        server 127.0.0.1:${PRT[i]} max_fails=1 fail_timeout=5s;"; any=1; fi
        done
        ((any)) || echo "        server 127.0.0.1:9 down;  # no replica is up"
        echo "    }"
        # A tab with the cookie rK: replica K while it is up, else any live one (and the cookie follows it).
        for ((i = 1; i <= REPLICAS; i++)); do
            echo "    upstream gruviz_r$i {"
            mark=""; [[ ${STATE[i]} == up ]] || mark=" down"
            echo "        server 127.0.0.1:${PRT[i]} max_fails=1 fail_timeout=5s$mark;"
            for ((j = 1; j <= REPLICAS; j++)); do
                ((j == i)) && continue
                [[ ${STATE[j]} == up ]] && echo "        server 127.0.0.1:${PRT[j]} backup;"
            done
            ((any)) || echo "        server 127.0.0.1:9 backup down;"
            echo "    }"
        done
        echo "    map \$cookie_gruviz \$gruviz_pool {"
        echo "        default gruviz_any;"
        for ((i = 1; i <= REPLICAS; i++)); do echo "        r$i gruviz_r$i;"; done
        echo "    }"
        # Set the cookie to the replica that served this response, unless the tab already has it.
        echo "    map \"\$cookie_gruviz \$upstream_addr\" \$gruviz_set_cookie {"
        echo "        default \"\";"
        for ((i = 1; i <= REPLICAS; i++)); do
            echo "        \"~^(?!r$i ).*:${PRT[i]}\$\" \"gruviz=r$i; Path=/; HttpOnly; SameSite=Lax\";"
        done
        echo "    }"
        cat <<EOF
    # The replicas' own responses (the page, an export) are gzipped on the way when large; the websocket has its own
    # compression (.streamlit/config.toml).
    gzip on;
    gzip_proxied any;
    gzip_min_length 1024;
    gzip_types text/css application/javascript application/json image/svg+xml text/csv text/plain;
    gzip_vary on;

    server {
        listen $ADDRESS:$PORT;
EOF
        if [[ -n $WWW ]]; then
            cat <<EOF
        # Streamlit's frontend files from disk, gzipped once at start (prepare_static): 2.8 MiB a student instead
        # of 8 MiB, and no replica's time. A name not there (another Streamlit's) goes to the replicas.
        location /static/ {
            root $WWW;
            gzip_static on;
            add_header Cache-Control "public, immutable, max-age=31536000";
            try_files \$uri @replica;
        }
        location @replica {
$(proxy_directives)
        }
EOF
        fi
        cat <<EOF
        location / {
$(proxy_directives)
        }
    }
}
EOF
    } >"$conf"
    mv "$conf" "$NGX/nginx.conf"
    [[ $(id -u) -eq 0 ]] && chown nobody:nogroup "$NGX/nginx.conf"
    return 0
}

NGINX_PID=
start_nginx() {
    write_conf
    "${NGINX_RUN[@]}" "$NGINX" -t -q -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" \
        || die "nginx rejected $NGX/nginx.conf (see $NGX/error.log)"
    "${NGINX_RUN[@]}" "$NGINX" -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" \
        || die "nginx did not start on $ADDRESS:$PORT (see $NGX/error.log)"
    local k
    for ((k = 0; k < 50; k++)); do [[ -s $NGX/nginx.pid ]] && break; sleep 0.1; done
    NGINX_PID=$(cat "$NGX/nginx.pid")
    say "nginx: listening on $ADDRESS:$PORT (pid $NGINX_PID, config $NGX/nginx.conf)"
}

reload_nginx() {  # new workers take the new upstreams; old ones finish their open connections
    write_conf
    write_state
    if [[ -n $NGINX_PID ]]; then
        "${NGINX_RUN[@]}" "$NGINX" -t -q -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" \
            || say "nginx: the new config is refused (see $NGX/error.log); keeping the old one"
        kill -HUP "$NGINX_PID" 2>/dev/null || say "nginx: reload failed (pid $NGINX_PID gone?)"
    fi
    say "upstream: $(for ((i = 1; i <= REPLICAS; i++)); do printf 'r%s=%s ' "$i" "${STATE[i]}"; done)"
}

# ------------------------------------------------------------------------------------------------- stopping
STOPPING=0
cleanup() {
    ((STOPPING)) && return
    STOPPING=1
    trap '' INT TERM HUP
    say "stopping: nginx and $REPLICAS replica(s)"
    if [[ -n $NGINX_PID ]]; then kill -TERM "$NGINX_PID" 2>/dev/null || true; fi
    local i k alive
    for ((i = 1; i <= REPLICAS; i++)); do [[ -n ${PID[i]:-} ]] && stop_group "${PID[i]}" TERM; done
    for ((k = 0; k < 100; k++)); do  # up to 10 s, then SIGKILL what is left
        alive=0
        for ((i = 1; i <= REPLICAS; i++)); do
            [[ -n ${PID[i]:-} ]] && kill -0 -- "-${PID[i]}" 2>/dev/null && alive=1
        done
        [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null && alive=1
        ((alive)) || break
        sleep 0.1
    done
    for ((i = 1; i <= REPLICAS; i++)); do [[ -n ${PID[i]:-} ]] && stop_group "${PID[i]}" KILL; done
    if [[ -n $NGINX_PID ]] && kill -0 "$NGINX_PID" 2>/dev/null; then kill -KILL "$NGINX_PID" 2>/dev/null || true; fi
    pkill -KILL -P "$NGINX_PID" 2>/dev/null || true  # its workers, by parent pid (never by name)
    wait 2>/dev/null || true
    for ((i = 1; i <= REPLICAS; i++)); do STATE[i]=stopped; done
    write_state
    say "stopped"
}
trap 'cleanup; exit 0' INT TERM HUP
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------- start
say "run dir $RUN; $REPLICAS replica(s)${PROFILE:+, profile $PROFILE}"
for ((i = 1; i <= REPLICAS; i++)); do start_replica "$i"; done
write_state
prepare_static >>"$RUN/serve.log" 2>&1 &  # while the replicas import the app
STATIC_PID=$!
deadline=$((SECONDS + START_TIMEOUT))
while :; do  # every replica healthy (or given up on) before nginx takes students
    pending=0
    for ((i = 1; i <= REPLICAS; i++)); do
        if [[ ${STATE[i]} == starting ]]; then
            if healthy "$i"; then STATE[i]=up; say "replica $i: healthy"
            elif ! kill -0 "${PID[i]}" 2>/dev/null; then say "replica $i: exited during start-up, restarting"; start_replica "$i"; pending=1
            else pending=1; fi
        fi
    done
    ((pending)) || break
    ((SECONDS < deadline)) || die "replicas not healthy within $START_TIMEOUT s (see $RUN/logs/)"
    sleep 0.3 & wait $!
done
if wait "$STATIC_PID"; then WWW=$NGX/www; else say "nginx: could not prepare the frontend's files; the replicas serve them"; fi
start_nginx
write_state
if [[ $ADDRESS == 0.0.0.0 ]]; then
    for ip in $(hostname -I 2>/dev/null || true); do [[ $ip == *:* ]] || say "students open http://$ip:$PORT/"; done
fi
say "serving http://$ADDRESS:$PORT/ (Ctrl-C stops everything)"

# -------------------------------------------------------------------------------------------------- monitor
while :; do
    sleep "$INTERVAL" & wait $!
    CHANGED=0
    for ((i = 1; i <= REPLICAS; i++)); do
        if ! kill -0 "${PID[i]}" 2>/dev/null; then
            wait "${PID[i]}" 2>/dev/null && rc=0 || rc=$?
            say "replica $i: exited (pid ${PID[i]}, status $rc): restarting"
            stop_group "${PID[i]}" KILL  # whatever it left in its group
            [[ ${STATE[i]} == up ]] && CHANGED=1
            start_replica "$i"
            continue
        fi
        if healthy "$i"; then
            FAILS[i]=0
            if [[ ${STATE[i]} != up ]]; then
                say "replica $i: healthy$([[ ${STATE[i]} == out ]] && echo ' again'): into rotation"
                STATE[i]=up; CHANGED=1
            fi
            BAD_SINCE[i]=$SECONDS
            continue
        fi
        FAILS[i]=$((FAILS[i] + 1))
        bad=$((SECONDS - BAD_SINCE[i]))
        if [[ ${STATE[i]} == starting ]]; then  # a (re)start takes seconds on a busy machine
            if ((bad >= START_TIMEOUT)); then
                say "replica $i: not healthy ${bad} s after its start: killing and restarting it"
                stop_group "${PID[i]}" KILL
                wait "${PID[i]}" 2>/dev/null || true
                start_replica "$i"
            fi
        elif [[ ${STATE[i]} == up ]] && ((bad >= HUNG_AFTER)); then
            say "replica $i: no health answer for ${bad} s: out of rotation"
            STATE[i]=out; CHANGED=1
        elif [[ ${STATE[i]} != up ]] && ((bad >= HUNG_KILL_AFTER)); then
            say "replica $i: no health answer for ${bad} s: killing and restarting it"
            stop_group "${PID[i]}" KILL
            wait "${PID[i]}" 2>/dev/null || true
            [[ ${STATE[i]} == up ]] && CHANGED=1
            start_replica "$i"
        fi
    done
    if ((CHANGED)); then reload_nginx; else write_state; fi
done
