# bash completion for guestkit: verbs, options, pool and volume names.
_guestkit ()
{
  local cur prev words cword verb i pool arg1 nargs=0
  local -a gk=(guestkit)
  _init_completion || return

  # The verb, the number of its arguments before the cursor, and the
  # state directory the command line names (pool names come from it).
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      --state-dir) gk+=(--state-dir "${words[i+1]}"); ((i++)) ;;
      --pool|--newpool|--format|--allocation|--backing-vol*|--name|--type|--source-*|--target|--auth-*|--secret-*|--initiator|--source-initiator|--thin-pool) ((i++)) ;;
      -*) ;;
      *) if [ -z "$verb" ]; then verb="${words[i]}"
         else ((nargs++)); [ "$nargs" = 1 ] && arg1="${words[i]}"; fi ;;
    esac
  done

  case "$prev" in
    --pool|--newpool)
      COMPREPLY=($(compgen -W "$("${gk[@]}" pool-list --all --name-only 2>/dev/null)" -- "$cur"))
      return ;;
    --type)
      COMPREPLY=($(compgen -W "dir iscsi lvm rbd" -- "$cur"))
      return ;;
    --format)
      COMPREPLY=($(compgen -W "raw qcow2" -- "$cur"))
      return ;;
    --state-dir|--target)
      _filedir -d
      return ;;
  esac

  if [[ "$cur" == -* ]]; then
    # After a verb, only the options it uses.
    COMPREPLY=($(compgen -W "$("${gk[@]}" $verb --long-options 2>/dev/null)" -- "$cur"))
    return
  fi
  if [ -z "$verb" ]; then
    COMPREPLY=($(compgen -W "$("${gk[@]}" --verbs 2>/dev/null)" -- "$cur"))
    return
  fi
  case "$verb" in
    pool-define|vol-upload|vol-download|vol-create)
      _filedir ;;
    pool-define-as)
      # NAME is new; then TYPE.
      [ "$nargs" = 1 ] && COMPREPLY=($(compgen -W "dir lvm iscsi rbd" -- "$cur")) ;;
    pool-list) ;;
    pool-*)
      [ "$nargs" = 0 ] &&
        COMPREPLY=($(compgen -W "$("${gk[@]}" pool-list --all --name-only 2>/dev/null)" -- "$cur")) ;;
    vol-rename)
      # POOL VOL NEWNAME, or VOL NEWNAME --pool POOL.
      pool=
      for ((i = 1; i < cword; i++)); do
        [ "${words[i]}" = --pool ] && pool="${words[i+1]}"
      done
      if [ -z "$pool" ] && [ "$nargs" = 0 ]; then
        COMPREPLY=($(compgen -W "$("${gk[@]}" pool-list --name-only 2>/dev/null)" -- "$cur"))
      elif [ -z "$pool" ] && [ "$nargs" = 1 ]; then
        COMPREPLY=($(compgen -W "$("${gk[@]}" vol-list "$arg1" --name-only 2>/dev/null)" -- "$cur"))
      elif [ -n "$pool" ] && [ "$nargs" = 0 ]; then
        COMPREPLY=($(compgen -W "$("${gk[@]}" vol-list "$pool" --name-only 2>/dev/null)" -- "$cur"))
      fi ;;
    vol-list|vol-create-as)
      [ "$nargs" = 0 ] &&
        COMPREPLY=($(compgen -W "$("${gk[@]}" pool-list --name-only 2>/dev/null)" -- "$cur")) ;;
    vol-*)
      pool=
      for ((i = 1; i < cword; i++)); do
        [ "${words[i]}" = --pool ] && pool="${words[i+1]}"
      done
      [ -n "$pool" ] && [ "$nargs" = 0 ] &&
        COMPREPLY=($(compgen -W "$("${gk[@]}" vol-list "$pool" --name-only 2>/dev/null)" -- "$cur")) ;;
  esac
} &&
complete -F _guestkit guestkit
