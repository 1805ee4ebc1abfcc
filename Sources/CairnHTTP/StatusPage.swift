import Crypto

/// The status page every node serves at `/` and `/ui` (docs/operations.md, "The status page"):
/// one HTML document with its style and script inline, served from the binary. The script
/// polls this node's JSON API every second (`/v1/cluster`, `/v1/cluster/partitions`,
/// `/metrics`) and draws the ring, the members, transfers with progress and ETA, hints per
/// target, anti-entropy per partition, request rates and latency percentiles, and siblings per
/// read. No build step and nothing fetched from anywhere else: the content security policy
/// allows only the inline style and script (by their SHA-256) and requests to this node.
///
/// Everything that comes from the cluster (addresses, ids) is set as text, never as markup.
/// When the node asks for a token, the page asks for one and keeps it in the browser's
/// session storage, sending it as `Authorization: Bearer`.
public enum StatusPage {
    public static let html: [UInt8] = Array("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Cairn status</title>
        <style>\(style)</style></head>
        <body>
        <header><h1>Cairn</h1><span id="summary">loading…</span><span id="updated"></span></header>
        <form id="auth" hidden><label>This node asks for a token: <input id="token" type="password" autocomplete="off"></label>
        <button>Use</button></form>
        <ul id="warnings"></ul>
        <main>
        <section><h2>Ring</h2><svg id="ring" viewBox="-110 -110 220 220" role="img" aria-label="partitions by owner"></svg>
        <p class="note">Each arc is a partition, coloured by its first replica; a dashed outline: still arriving here.</p></section>
        <section><h2>Members</h2><table id="members"><thead><tr><th></th><th>node</th><th>address</th><th>status</th>
        <th>reachable</th><th>φ</th><th>partitions</th><th>hints for it</th></tr></thead><tbody></tbody></table></section>
        <section><h2>Requests</h2><table id="requests"><thead><tr><th>op</th><th>ops/s</th><th>p50</th><th>p99</th><th>total</th></tr></thead>
        <tbody></tbody></table><p class="note" id="quorum"></p></section>
        <section><h2>Siblings per read</h2><div id="siblings" class="bars"></div></section>
        <section><h2>Transfers from this node</h2><table id="transfers"><thead><tr><th>partition</th><th>to</th><th>state</th>
        <th>progress</th><th>keys/s</th><th>ETA</th></tr></thead><tbody></tbody></table><p class="note" id="transfers-note"></p></section>
        <section><h2>Hints held here</h2><table id="hints"><thead><tr><th>for</th><th>hints</th><th>bytes</th><th>oldest</th></tr></thead>
        <tbody></tbody></table></section>
        <section class="wide"><h2>Anti-entropy here</h2><p class="note" id="ae-note"></p><table id="exchanges"><thead><tr>
        <th>partition</th><th>keys</th><th>last exchange</th><th>with</th><th>trees</th><th>repaired (last / total)</th></tr></thead>
        <tbody></tbody></table></section>
        </main>
        <script>\(script)</script>
        </body></html>
        """.utf8)

    /// The header's value: nothing but this node and the two inline blocks.
    public static let contentSecurityPolicy =
        "default-src 'none'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        + "frame-ancestors 'none'; style-src '\(hash(style))'; script-src '\(hash(script))'"

    static func hash(_ text: String) -> String { "sha256-" + Base64.encode(Array(SHA256.hash(data: Array(text.utf8))), .standard) }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
        header{display:flex;gap:1.2em;align-items:baseline;padding:.6em 1.2em;background:#24303f;color:#fff}
        header h1{font-size:1.3em;margin:0}#updated{margin-left:auto;opacity:.75}
        main{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1em;padding:1em}
        section{background:#fff;border-radius:6px;padding:.6em 1em;box-shadow:0 1px 2px #0002}
        section.wide{grid-column:1/-1}h2{font-size:1.05em;margin:.2em 0 .5em}
        table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:2px 6px;border-bottom:1px solid #eee}
        th{font-weight:600;color:#555}td.num{text-align:right;font-variant-numeric:tabular-nums}
        .dot{display:inline-block;width:.8em;height:.8em;border-radius:50%}.up{background:#2e9d4f}.down{background:#d33}
        .swatch{display:inline-block;width:1em;height:1em;border-radius:2px}
        .bar{background:#e5e8ec;border-radius:3px;height:.8em;min-width:8em}.bar>div{background:#3b7dd8;height:100%;border-radius:3px}
        .bars{display:flex;align-items:flex-end;gap:4px;height:120px}.bars div{flex:1;text-align:center;font-size:.8em}
        .bars span{display:block;background:#3b7dd8;border-radius:2px 2px 0 0}
        .note{color:#666;font-size:.9em;margin:.3em 0}#warnings{margin:.5em 1em;color:#a15c00}
        #auth{margin:.8em 1.2em}.bad{color:#d33}.good{color:#2e9d4f}svg{max-width:320px;display:block;margin:auto}
        """

    static let script = """
        "use strict";
        const palette=["#3b7dd8","#e0803a","#2e9d4f","#c0392b","#8e5cc2","#8c6d46","#d16ba5","#7f8c8d","#b5b531","#17a2b8"];
        let previous=null, colours=new Map(), token=sessionStorage.getItem("cairn-token");
        const $=id=>document.getElementById(id);
        function el(tag,attrs,...children){const e=document.createElement(tag);
          for(const [k,v] of Object.entries(attrs||{})){if(k==="class")e.className=v;else if(k==="style")e.style.cssText=v;else e.setAttribute(k,v);}
          for(const c of children)e.append(c instanceof Node?c:document.createTextNode(String(c)));return e;}
        function short(id){return id?id.slice(0,8):"";}
        function colour(id){if(!colours.has(id))colours.set(id,palette[colours.size%palette.length]);return colours.get(id);}
        function bytes(n){const u=["B","KiB","MiB","GiB","TiB"];let i=0;while(n>=1024&&i<u.length-1){n/=1024;i++;}return (i?n.toFixed(1):n)+" "+u[i];}
        function age(ms){if(ms<1000)return ms+" ms ago";const s=ms/1000;if(s<120)return s.toFixed(0)+" s ago";
          const m=s/60;return m<120?m.toFixed(0)+" min ago":(m/60).toFixed(1)+" h ago";}
        function duration(s){if(!isFinite(s))return "—";if(s<1)return (s*1000).toFixed(2)+" ms";return s.toFixed(2)+" s";}
        function fill(tbody,rows){tbody.replaceChildren(...rows);}
        async function get(path,text){
          const headers=token?{"Authorization":"Bearer "+token}:{};
          const response=await fetch(path,{headers,cache:"no-store"});
          if(response.status===401){$("auth").hidden=false;throw new Error("this node needs a token");}
          if(!response.ok)throw new Error(path+": HTTP "+response.status);
          return text?response.text():response.json();}
        function parseMetrics(text){const out=[];
          for(const line of text.split("\\n")){if(!line||line[0]==="#")continue;
            const m=line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)/);if(!m)continue;
            const labels={};if(m[3])for(const p of m[3].matchAll(/([a-zA-Z_]+)="((?:[^"\\\\]|\\\\.)*)"/g))labels[p[1]]=p[2];
            out.push({name:m[1],labels,value:parseFloat(m[4])});}
          return out;}
        function sum(metrics,name,filter){return metrics.filter(m=>m.name===name&&(!filter||filter(m.labels))).reduce((a,m)=>a+m.value,0);}
        function buckets(metrics,name,filter){const b=new Map();
          for(const m of metrics)if(m.name===name+"_bucket"&&(!filter||filter(m.labels))){const le=m.labels.le==="+Inf"?Infinity:parseFloat(m.labels.le);b.set(le,(b.get(le)||0)+m.value);}
          return [...b.entries()].sort((x,y)=>x[0]-y[0]);}
        function quantile(cumulative,q){const total=cumulative.length?cumulative[cumulative.length-1][1]:0;if(!total)return NaN;
          let lower=0,below=0;for(const [le,count] of cumulative){if(count>=q*total){if(!isFinite(le))return lower;
            const inside=count-below;return inside?lower+(le-lower)*((q*total-below)/inside):le;}lower=le;below=count;}return NaN;}
        function minus(now,before){if(!before)return now;const map=new Map(before);return now.map(([le,c])=>[le,c-(map.get(le)||0)]);}
        function drawRing(cluster,parts){const svg=$("ring");svg.replaceChildren();const list=parts.partitions||[];const q=list.length;
          const ns="http://www.w3.org/2000/svg";
          if(!q){const t=document.createElementNS(ns,"text");t.setAttribute("text-anchor","middle");t.textContent="no ring yet";svg.append(t);return;}
          for(const p of list){const a0=2*Math.PI*p.partition/q-Math.PI/2,a1=2*Math.PI*(p.partition+1)/q-Math.PI/2;
            const r0=62,r1=100,large=a1-a0>Math.PI?1:0,pt=(r,a)=>(r*Math.cos(a)).toFixed(2)+" "+(r*Math.sin(a)).toFixed(2);
            const path=document.createElementNS(ns,"path");
            path.setAttribute("d","M"+pt(r1,a0)+"A"+r1+" "+r1+" 0 "+large+" 1 "+pt(r1,a1)+"L"+pt(r0,a1)+"A"+r0+" "+r0+" 0 "+large+" 0 "+pt(r0,a0)+"Z");
            const owner=(p.replicas||[])[0];path.setAttribute("fill",owner?colour(owner):"#ccc");
            path.setAttribute("stroke",p.pending?"#000":"#fff");path.setAttribute("stroke-width",p.pending?"1.2":"0.6");
            if(p.pending)path.setAttribute("stroke-dasharray","2 1.5");
            path.setAttribute("data-partition",p.partition);
            const title=document.createElementNS(ns,"title");title.textContent="partition "+p.partition+": "+(p.replicas||[]).map(short).join(", ");
            path.append(title);svg.append(path);}
          const label=document.createElementNS(ns,"text");label.setAttribute("text-anchor","middle");label.setAttribute("y","5");
          label.textContent=q+" partitions";svg.append(label);}
        function render(cluster,parts,metrics){
          const ring=cluster.ring||{};
          $("summary").textContent="cluster "+cluster.cluster+" · node "+short(cluster.node)+" ("+cluster.http+") · ring v"+(ring.version??"–")+
            " · "+(ring.members??0)+" owners · N="+ring.n+" R="+ring.r+" W="+ring.w+" · Q="+ring.partitions;
          $("warnings").replaceChildren(...(cluster.warnings||[]).map(w=>el("li",{},w)));
          for(const m of cluster.members)colour(m.node);
          drawRing(cluster,parts);
          const hintsFor=new Map((parts.hints||[]).map(h=>[h.target,h]));
          fill($("members").tBodies[0],cluster.members.map(m=>el("tr",{"data-node":m.node,"data-status":m.status,"data-reachable":String(m.reachable)},
            el("td",{},el("span",{class:"swatch",style:"background:"+colour(m.node)})),
            el("td",{title:m.node},short(m.node)+(m.self?" (this node)":"")),el("td",{},m.address),el("td",{},m.status),
            el("td",{},el("span",{class:"dot "+(m.reachable?"up":"down")})," ",m.reachable?"reachable":"unreachable"),
            el("td",{class:"num"},m.phi!==undefined?m.phi.toFixed(2):"–"),el("td",{class:"num"},m.partitions??"–"),
            el("td",{class:"num"},hintsFor.has(m.node)?hintsFor.get(m.node).count:0))));
          const now=performance.now(),seconds=previous?(now-previous.at)/1000:0;
          const rows=["get","put","delete"].map(op=>{const total=sum(metrics,"cairn_requests_total",l=>l.op===op);
            const before=previous?previous.totals[op]:undefined,rate=seconds>0&&before!==undefined?(total-before)/seconds:NaN;
            const all=buckets(metrics,"cairn_request_duration_seconds",l=>l.op===op);
            const window=previous&&previous.latency[op]?minus(all,previous.latency[op]):all;
            const recent=window.length&&window[window.length-1][1]>0?window:all;
            return {op,total,rate,all,p50:quantile(recent,0.5),p99:quantile(recent,0.99)};});
          fill($("requests").tBodies[0],rows.map(r=>el("tr",{},el("td",{},r.op),el("td",{class:"num"},isNaN(r.rate)?"–":r.rate.toFixed(1)),
            el("td",{class:"num"},duration(r.p50)),el("td",{class:"num"},duration(r.p99)),el("td",{class:"num"},r.total))));
          const ok=sum(metrics,"cairn_quorum_outcomes_total",l=>l.outcome==="success"),failed=sum(metrics,"cairn_quorum_outcomes_total",l=>l.outcome==="failure");
          $("quorum").textContent="quorum reads: "+ok+" met, "+failed+" failed; read repairs "+sum(metrics,"cairn_read_repairs_total")+
            "; latency percentiles over the last second when there were requests, else since start";
          const sib=buckets(metrics,"cairn_read_siblings");let below=0;const counts=sib.map(([le,c])=>{const n=c-below;below=c;return [le,n];});
          const most=Math.max(1,...counts.map(c=>c[1]));
          $("siblings").replaceChildren(...(counts.length?counts:[[1,0]]).map(([le,n])=>el("div",{title:n+" reads"},
            el("span",{style:"height:"+Math.round(100*n/most)+"px"}),isFinite(le)?(le===1?"1":"≤"+le):">100",el("br"),n)));
          const sent=new Map();
          fill($("transfers").tBodies[0],(cluster.transfers||[]).map(t=>{const key=t.partition+">"+t.to;sent.set(key,t.sent_keys);
            const before=previous?previous.sent.get(key):undefined,rate=seconds>0&&before!==undefined?(t.sent_keys-before)/seconds:NaN;
            const total=t.total_keys,share=total?Math.min(1,t.sent_keys/total):0;
            const eta=total&&rate>0?Math.max(0,(total-t.sent_keys)/rate):NaN;
            return el("tr",{"data-partition":t.partition},el("td",{},t.partition),el("td",{title:t.to},short(t.to)),el("td",{},t.state),
              el("td",{},el("div",{class:"bar",title:t.sent_keys+" of "+(total??"?")+" keys, "+bytes(t.sent_bytes)},el("div",{style:"width:"+(100*share).toFixed(1)+"%"}))),
              el("td",{class:"num"},isNaN(rate)?"–":rate.toFixed(0)),el("td",{class:"num"},isNaN(eta)?"–":eta.toFixed(0)+" s"));}));
          const handoff=cluster.handoff||{};
          $("transfers-note").textContent=(handoff.paused?"handoff PAUSED (cairn cluster transfers resume); ":"")+
            (handoff.bytes_per_second?"throttle "+bytes(handoff.bytes_per_second)+"/s per transfer; ":"")+
            ((cluster.transfers||[]).length?"":"none in progress ("+(cluster.transfers_done||0)+" done since start)")+
            ((cluster.pending_partitions||[]).length?"; arriving here: "+cluster.pending_partitions.join(", "):"");
          fill($("hints").tBodies[0],(parts.hints||[]).map(h=>el("tr",{},el("td",{title:h.target},short(h.target)),el("td",{class:"num"},h.count),
            el("td",{class:"num"},bytes(h.bytes)),el("td",{},h.oldest_age_ms!==undefined?age(h.oldest_age_ms):"–"))));
          const here=(parts.partitions||[]).filter(p=>p.here);const exchanged=here.filter(p=>p.exchange);
          const disagree=exchanged.filter(p=>!p.exchange.agree);
          $("ae-note").textContent=here.length+" partitions replicated here; "+exchanged.length+" exchanged since start; "+
            (disagree.length?disagree.length+" differed at their last exchange":"all agreed at their last exchange");
          fill($("exchanges").tBodies[0],here.map(p=>{const x=p.exchange;return el("tr",{"data-partition":p.partition},el("td",{},p.partition),
            el("td",{class:"num"},p.keys??0),el("td",{},x?age(x.age_ms):"not yet"),el("td",{title:x?x.peer:""},x?short(x.peer):"–"),
            el("td",{class:x?(x.agree?"good":"bad"):""},x?(x.agree?"agree":x.segments_differing+" segments differ"):"–"),
            el("td",{class:"num"},x?x.repaired+" / "+x.repaired_total:"–"));}));
          const totals={},latency={};for(const r of rows){totals[r.op]=r.total;latency[r.op]=r.all;}
          previous={at:now,totals,latency,sent};
          $("updated").textContent="updated "+new Date().toLocaleTimeString();}
        async function poll(){try{const [cluster,parts,metrics]=await Promise.all([get("/v1/cluster"),get("/v1/cluster/partitions"),get("/metrics",true)]);
            render(cluster,parts,parseMetrics(metrics));$("updated").classList.remove("bad");}
          catch(error){$("updated").textContent=String(error.message||error);$("updated").classList.add("bad");}
          setTimeout(poll,1000);}
        $("auth").addEventListener("submit",e=>{e.preventDefault();token=$("token").value;sessionStorage.setItem("cairn-token",token);$("auth").hidden=true;});
        poll();
        """
}
